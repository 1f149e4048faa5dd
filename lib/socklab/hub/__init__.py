"""A socklab class on one machine: JupyterHub with nbgrader's exchange (`make hub`, `socklab hub`).

`install` prepares the shared Python, the Unix accounts, the course and the exchange; `run`
starts and stops the hub. `deploy/hub/jupyterhub_config.py` is the hub's configuration.
"""
from .install import HubError, HubPlan
from .run import Hub, running_hub, start_hub, stop_running_hub

__all__ = ["Hub", "HubError", "HubPlan", "running_hub", "start_hub", "stop_running_hub"]
