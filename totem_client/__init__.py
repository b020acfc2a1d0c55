"""Small HTTP clients for the services' public APIs, shared by the dashboard and the operator CLI."""

from totem_client.base import ServiceClient, ServiceError
from totem_client.deployer import DeployerClient
from totem_client.image_factory import ImageFactoryClient
from totem_client.orchestrator import OrchestratorClient
from totem_client.services import Clients

__all__ = ["Clients", "DeployerClient", "ImageFactoryClient", "OrchestratorClient", "ServiceClient", "ServiceError"]
