import io
import json
import logging

from totem import logs


def capture(fmt="json"):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.KeyValueFormatter("svc") if fmt == "kv" else logs.JsonFormatter("svc"))
    logger = logging.getLogger(f"test.logs.{fmt}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_one_json_object_per_line_with_context_ids():
    logger, stream = capture()
    with logs.log_context(request_id="req-1", job_id="job-9"):
        logger.info("build %s started", "b1", extra={"repo": "hello"})
    record = json.loads(stream.getvalue())
    assert record["msg"] == "build b1 started"
    assert (record["request_id"], record["job_id"], record["repo"]) == ("req-1", "job-9", "hello")
    assert record["service"] == "svc" and record["level"] == "info"


def test_secrets_never_reach_the_log():
    logs.register_secret("hunter2-secret")
    logger, stream = capture("kv")
    logger.info(
        "connecting with hunter2-secret to redis://user:pa55word@127.0.0.1:6379/0",
        extra={"api_token": "visible?", "Authorization": "Bearer x"},
    )
    line = stream.getvalue()
    assert "hunter2-secret" not in line and "pa55word" not in line and "visible?" not in line
    assert "***" in line


def test_context_is_restored_after_the_block():
    logger, stream = capture()
    with logs.log_context(job_id="inner"):
        pass
    logger.info("outside")
    assert "job_id" not in json.loads(stream.getvalue())
