"""The demo's manifest (manifests/demo.yaml), as the component's defaults: what HelloApp deploys
when nothing else is said."""

NAMESPACE = "demo"
DEPLOYMENT = "hello-api"
SERVICE = "hello-svc"
IMAGE = "hashicorp/http-echo:0.2.3"
REPLICAS = 3
MESSAGE = "Hola desde Kubernetes 👋"
CONTAINER_PORT = 8080
SERVICE_PORT = 80
NODE_PORT = 30080
JOBS_IMAGE = "localhost/demo-orq/jobs:1.0"
"""The app's Jobs (smoke test, daily figures): built locally (cluster/images/jobs), never pulled."""
FRONTEND_IMAGE = "localhost/demo-orq/frontend:1.0"
"""The app's frontend (serves `/` by asking the API): built locally (cluster/images/frontend)."""
