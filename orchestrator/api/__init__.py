"""The read API (jobs, events), undeploy, and the OpenAPI document."""
