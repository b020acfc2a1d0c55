"""The three service clients, configured from the shared settings."""

from __future__ import annotations

from dataclasses import dataclass

from totem.settings import Settings
from totem_client.deployer import DeployerClient
from totem_client.image_factory import ImageFactoryClient
from totem_client.orchestrator import OrchestratorClient


@dataclass
class Clients:
    orchestrator: OrchestratorClient
    deployer: DeployerClient
    image_factory: ImageFactoryClient

    @classmethod
    def from_settings(cls, settings: Settings, token: str | None = None) -> Clients:
        return cls(
            OrchestratorClient(settings.orchestrator_url, token),
            DeployerClient(settings.deployer_url, token),
            ImageFactoryClient(settings.image_factory_url, token),
        )

    def with_token(self, token: str | None) -> Clients:
        return Clients(
            self.orchestrator.with_token(token), self.deployer.with_token(token), self.image_factory.with_token(token)
        )
