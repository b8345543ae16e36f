"""The orchestrator's blueprints."""
