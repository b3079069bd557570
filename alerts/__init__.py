"""Alerts: the lifecycle of each station's alerts, routing to on-call rotas per jurisdiction,
escalation, silences, notifications in Chinese over webhooks, robots and e-mail, the console.

Modules::

    records      the messages of wq.alerts and wq.alerts.commands (msgspec records)
    errors       the exception tree of the package (drawn there)
    lifecycle    one station's alerts: a pure state machine, time as data
    config       alerts.yaml: receivers, channels, rotas, timing
    routing      who is on duty; the plan of who hears of which changes
    commands     acknowledgement and silence request bodies -> command records
    views        the alerts and silences as the HTTP API and the console show them
    messages     the Chinese notification of some changes for one receiver
    channels     what a notification is and where it can go
    notifiers    sending over each kind of channel, with retries

Pure but for the notifiers (HTTP and SMTP): no Kafka or Faust. The agents, the clock and the
web views are in ``streams.agents`` (alert, alert_handlers, alert_views).
"""
