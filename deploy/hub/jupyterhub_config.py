"""JupyterHub configuration for a socklab class on one machine (`make hub` / `socklab hub`).

`socklab hub` writes the settings this file reads into a JSON file and points
SOCKLAB_HUB_SETTINGS at it, so the same file serves every install. A sysadmin who runs the hub
without `socklab hub` (systemd, say) can write that JSON by hand; its keys are read below.

What it sets up, and why:
- Everything listens on 127.0.0.1 only. Put a TLS reverse proxy (nginx, Caddy) in front for a
  real class; never expose the hub's port directly.
- Real Unix accounts, one per person (PAM logins, as The Littlest JupyterHub does). The hub runs
  as root only to start each user's server *as that user*; a user server running as root refuses
  to start ("Use --allow-root"), and a spawner that shares one Unix account would file every
  nbgrader submission under that account's name. With real accounts nbgrader's exchange gives
  each submission its owner's id and keeps students out of each other's work.
- Students get JupyterLab with nbgrader's *Assignments* (fetch, submit, fetch feedback) only;
  the instructor gets formgrader and *Create Assignment*, in a server whose root is the course.
"""
import json
import os
import pathlib

c = get_config()  # noqa: F821  (injected by JupyterHub)

settings = json.loads(pathlib.Path(os.environ["SOCKLAB_HUB_SETTINGS"]).read_text())
state = pathlib.Path(settings["state"])
prefix = pathlib.Path(settings["prefix"])
hubdir = state / "hub"

# -- network: loopback only -------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
# The pure-Python configurable-http-proxy (PyPI) installed in the hub's Python: no Node.js needed.
c.ConfigurableHTTPProxy.command = [str(prefix / "bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(hubdir / "proxy.pid")

# -- the hub's own files ------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{hubdir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hubdir / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(hubdir / "jupyterhub.pid")
# Stopping the hub stops every user server and the proxy (`socklab hub` also checks by PID).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- who may log in -----------------------------------------------------------------------------
# PAM: the Unix password `socklab hub` set when it created the account (state/hub/passwords.csv).
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}
c.Authenticator.admin_users = {settings["instructor"]}

# -- each user's server -------------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(prefix / "bin" / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# Idle student kernels and servers cost memory (README: sizing); cull them in a real class with
# jupyterhub-idle-culler as a hub service.


def _pre_spawn(spawner):
    """Role-specific config: the instructor's server opens the course, a student's their home."""
    name = spawner.user.name
    role = "instructor" if name == settings["instructor"] else "student"
    spawner.environment.update({
        # Read-only, below the user's own ~/.jupyter (JupyterLab writes settings there, per user).
        "JUPYTER_CONFIG_PATH": str(state / "config" / role),
        # grader/nbgrader_config.py reads this, so the course's exchange is the shared one.
        "SOCKLAB_EXCHANGE": str(state / "exchange"),
        # A login shell in JupyterLab's terminal resets PATH; keep the hub's Python first.
        "PATH": f"{prefix / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    })
    spawner.notebook_dir = str(state / "course") if role == "instructor" else "~"


c.Spawner.pre_spawn_hook = _pre_spawn
