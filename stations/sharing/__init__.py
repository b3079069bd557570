"""The data-sharing list (数据共享清单): which data each party sees, at what granularity and delay.

``grants`` is the resolved list (who sees what); ``config`` reads it from sharing.yaml. Pure."""
