"""The orchestrator Celery worker.

Run: celery -A orchestrator.worker worker -Q orchestrator
     celery -A orchestrator.worker beat      (re-queues idle open jobs every minute, and checks for
                                             missing hooks every TOTEM_HOOK_CHECK_INTERVAL s, trims the
                                             audit trail to TOTEM_AUDIT_RETENTION every minute, fails
                                             approvals past their deadline every
                                             TOTEM_APPROVAL_CHECK_INTERVAL s)
"""

from orchestrator.settings import options_or_exit
from orchestrator.tasks import register
from totem.settings import load_or_exit
from totem.workers import make_celery

settings = load_or_exit("orchestrator worker")
options = options_or_exit(settings.config_providers)
celery = make_celery("orchestrator", settings)
register(celery, options)
