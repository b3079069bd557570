"""The station simulator: model, values, faults, profile. Pure."""
