# Totem's image: every service and worker; the container's command picks which one runs.
#   docker build -t totem .
#   docker build --build-arg BASE_IMAGE=<a Debian 12 image with python3> -t totem .
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# git clones for the image factory, haproxy for yoda-proxy (skipped when the base has both).
RUN if ! command -v git >/dev/null || ! command -v haproxy >/dev/null; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git haproxy ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi

WORKDIR /opt/totem/src
COPY pyproject.toml README.md ./
COPY totem/ totem/
COPY orchestrator/ orchestrator/
COPY image_factory/ image_factory/
COPY deployer/ deployer/
COPY yoda_proxy/ yoda_proxy/
COPY yoda_discover/ yoda_discover/
COPY yoda_route53/ yoda_route53/
COPY fleet_templates/ fleet_templates/
# the `totem` command and the dashboard
COPY totem_cli/ totem_cli/
COPY totem_client/ totem_client/
COPY totem_dashboard/ totem_dashboard/
COPY totem_demo/ totem_demo/
COPY totem_stack/ totem_stack/
COPY totem_cluster/ totem_cluster/
# A venv that also sees the base's packages: dependencies the base already has are not fetched again.
RUN python3 -m venv --system-site-packages /opt/totem/venv \
    && /opt/totem/venv/bin/pip install --no-cache-dir --no-build-isolation . \
    && rm -rf build *.egg-info

ENV PATH=/opt/totem/venv/bin:$PATH \
    TOTEM_HOME=/var/lib/totem \
    PYTHONUNBUFFERED=1
RUN mkdir -p /var/lib/totem
WORKDIR /var/lib/totem
EXPOSE 9400 9000 9300 8080 8443 8081
CMD ["totem", "--help"]
