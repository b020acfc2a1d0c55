"""The image factory Celery worker.

Run: celery -A image_factory.worker worker -Q image_factory
     (add -B to one worker, or run `celery -A image_factory.worker beat`, for the periodic cleanup
     and the sweep that retries builds whose worker died)
"""

from kombu import Queue

from image_factory.settings import ImageFactorySettings
from totem.settings import load_or_exit
from totem.workers import make_celery

settings = load_or_exit("image_factory", receives_hooks=True)
config = ImageFactorySettings.from_env()

celery = make_celery("image_factory", settings)
celery.conf.update(
    task_default_queue=config.queue,
    task_queues=[Queue(config.queue)],
    task_routes={"image_factory.*": {"queue": config.queue}},
    worker_concurrency=config.concurrency,
    include=["image_factory.tasks"],
    beat_schedule={
        "prune-images": {"task": "image_factory.cleanup", "schedule": float(config.cleanup_interval)},
        # expires: sweeps sent while no worker runs are dropped, not piled up
        "requeue-dead-builds": {
            "task": "image_factory.sweep",
            "schedule": config.sweep_interval,
            "options": {"expires": config.sweep_interval},
        },
    },
)
