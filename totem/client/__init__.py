"""Small HTTP clients for the services' public APIs, shared by the dashboard and the operator CLI."""
from totem.client.base import ServiceClient, ServiceError
from totem.client.deployer import DeployerClient
from totem.client.image_factory import ImageFactoryClient
from totem.client.orchestrator import OrchestratorClient
from totem.client.services import Clients

__all__ = ["Clients", "DeployerClient", "ImageFactoryClient", "OrchestratorClient", "ServiceClient", "ServiceError"]
