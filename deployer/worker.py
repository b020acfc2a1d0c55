"""The deployer Celery worker.

Run: celery -A deployer.worker worker -Q deployer
"""
from totem.workers import make_celery

celery = make_celery("deployer")
