"""The orchestrator Celery worker.

Run: celery -A orchestrator.worker worker -Q orchestrator
"""
from totem.workers import make_celery

celery = make_celery("orchestrator")
