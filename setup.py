from setuptools import find_packages, setup

setup(
    name="totem",
    version="0.1.0",
    description="Continuous delivery for stateless containerized services",
    python_requires=">=3.11",
    packages=find_packages(exclude=["tests*", "bench*"]),
    package_data={
        "fleet_templates": ["*.j2", "*.service", "*.timer"],
        "yoda_proxy": ["templates/*.j2", "templates/pages/*.html"],
        "totem_dashboard": ["templates/*.html", "static/*.css", "static/*.js"],
    },
    include_package_data=True,
    install_requires=[
        "flask>=3.0",
        "gunicorn>=21",
        "celery[redis]>=5.3",
        "redis>=5",
        "docker>=7",
        "boto3>=1.28",
        "python-etcd>=0.4.5",
        "etcd3gw>=2.4",
        "jinja2>=3.1",
        "requests>=2.31",
        "pyyaml>=6",
        "jsonschema>=4.19",
        "cryptography>=41",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "moto[server]>=5", "openapi-spec-validator>=0.7", "selenium>=4.20"],
    },
    entry_points={
        "console_scripts": [
            "totem=totem_cli.main:main",
            "yoda-proxy=yoda_proxy.cli:main",
            "yoda-discover=yoda_discover.cli:main",
            "yoda-route53=yoda_route53.cli:main",
        ],
    },
)
