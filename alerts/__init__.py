"""Alert lifecycle, routing to on-call rotas per jurisdiction, escalation, silences, notifiers."""
