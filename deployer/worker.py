"""The deployer Celery worker, with the beat schedule for the sweep, the reconcile and scheduled jobs' runs.

Run: celery -A deployer.worker worker -Q deployer -B   (or a separate `celery -A deployer.worker beat`)
With TOTEM_DEPLOYER_QUEUE set, pass the same name to -Q.
"""

from celery.signals import worker_ready
from kombu import Queue

from deployer.job_runs import BEAT as RUN_BEAT
from deployer.settings import DeployerSettings, load_or_exit
from totem.settings import load_or_exit as load_settings_or_exit
from totem.workers import make_celery


def configure(app, options: DeployerSettings) -> None:
    """Route every deployer task to the cluster's queue and schedule the sweep, the reconcile and the
    look for scheduled jobs' runs that are due (deployer/job_runs.py)."""
    app.conf.update(
        task_default_queue=options.queue,
        task_queues=[Queue(options.queue)],
        task_routes={"deployer.*": {"queue": options.queue}},
        imports=("deployer.tasks",),
        beat_schedule={
            # a periodic task not started within its period is dropped: the next one does its work, so a
            # busy worker's queue never fills with sweeps (each one dispatching resumes) nor reconciles
            "deployer-sweep": {
                "task": "deployer.sweep",
                "schedule": options.sweep_interval,
                "options": {"expires": options.sweep_interval},
            },
            "deployer-reconcile": {
                "task": "deployer.reconcile",
                "schedule": options.reconcile_interval,
                "options": {"expires": options.reconcile_interval},
            },
            # each due run is claimed in etcd before it is queued: two beats (or workers) never run it twice
            "deployer-schedule-runs": {
                "task": "deployer.schedule_runs",
                "schedule": RUN_BEAT,
                "options": {"expires": RUN_BEAT},
            },
        },
    )


settings = load_settings_or_exit("deployer")
celery = make_celery("deployer", settings)
configure(celery, load_or_exit(settings))  # one line and exit 2, before any connection, when unusable


@worker_ready.connect
def resume_on_start(**_kwargs) -> None:
    celery.send_task("deployer.sweep")
