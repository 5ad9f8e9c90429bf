"""Cases (事件/诉求): see grid.services.cases."""
