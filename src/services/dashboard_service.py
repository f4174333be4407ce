"""Placeholder: the dashboard figures are computed here."""


class DashboardService:
    async def get_metrics(self) -> dict:
        raise NotImplementedError

    async def get_volume_by_category(self) -> list:
        raise NotImplementedError

    async def get_sla_compliance(self) -> dict:
        raise NotImplementedError

    async def get_team_workload(self) -> list:
        raise NotImplementedError
