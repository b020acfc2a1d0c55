"""The image factory Celery worker.

Run: celery -A image_factory.worker worker -Q image_factory
"""
from totem.workers import make_celery

celery = make_celery("image_factory")
