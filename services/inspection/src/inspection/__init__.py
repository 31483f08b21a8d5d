"""inspection service: spot checks (抽查) of communities, fed by other services' events."""
