"""The deployment files load, say what the docs say, and name only files that exist."""
from __future__ import annotations

import json
import pathlib
import re
import subprocess

import yaml
from traitlets.config.loader import PyFileConfigLoader

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def test_hub_config_binds_loopback_and_gives_each_role_its_config(tmp_path, monkeypatch):
    """Does deploy/hub/jupyterhub_config.py load, listen on 127.0.0.1 only, use real accounts,
    and give the instructor the course and students their home?"""
    settings = {"state": str(tmp_path / "class"), "prefix": "/opt/socklab-hub", "instructor": "teach",
                "students": ["ana", "ben"], "port": 18000, "hub_port": 18001, "proxy_api_port": 18002}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    monkeypatch.setenv("SOCKLAB_HUB_SETTINGS", str(tmp_path / "settings.json"))
    c = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY / "hub")).load_config()
    assert c.JupyterHub.bind_url == "http://127.0.0.1:18000"
    assert c.JupyterHub.hub_ip == "127.0.0.1" and c.Spawner.ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.authenticator_class == "pam" and c.JupyterHub.spawner_class == "localprocess"
    assert c.Authenticator.allowed_users == {"ana", "ben", "teach"}

    class User:
        def __init__(self, name):
            self.name = name

    class Spawner:
        def __init__(self, name):
            self.user, self.environment, self.notebook_dir = User(name), {}, None

    teacher, student = Spawner("teach"), Spawner("ana")
    c.Spawner.pre_spawn_hook(teacher)
    c.Spawner.pre_spawn_hook(student)
    assert teacher.notebook_dir == str(tmp_path / "class" / "course") and student.notebook_dir == "~"
    assert teacher.environment["JUPYTER_CONFIG_PATH"].endswith("/config/instructor")
    assert student.environment["JUPYTER_CONFIG_PATH"].endswith("/config/student")
    assert student.environment["PATH"].startswith("/opt/socklab-hub/bin:")


def test_kubernetes_values_and_grading_job_parse_and_match_the_docs():
    """Do the Helm values and the grading Job parse, use the socklab image, the exchange and course
    volumes, and keep the course out of student pods?"""
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    single = values["singleuser"]
    assert single["image"]["name"].endswith("socklab-singleuser")
    assert single["storage"]["extraVolumeMounts"] == [{"name": "exchange", "mountPath": "/srv/nbgrader/exchange"}]
    assert all(v["name"] != "course" for v in single["storage"]["extraVolumes"])
    instructor = [p for p in single["profileList"] if "kubespawner_override" in p]
    assert [v["name"] for v in instructor[0]["kubespawner_override"]["volumes"]] == ["course", "exchange"]
    job = yaml.safe_load((DEPLOY / "k8s" / "grade-job.yaml").read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["socklab", "grade"]
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_dockerfile_copies_only_files_that_exist_and_never_the_solutions():
    """Does the image's Dockerfile name only existing files, install through deploy/image/install.sh
    (the script `make hub` runs), and never copy solutions/ into the image?"""
    text = (DEPLOY / "image" / "Dockerfile").read_text()
    copies = re.findall(r"^COPY (?!--from)(.+?) (\S+)$", text, flags=re.M)
    assert copies
    for sources, _dest in copies:
        for src in sources.split():
            assert (REPO / src).exists(), src
            assert not src.startswith(("solutions", "grader", ".")), src
    assert "socklab-install" in text and "install.sh" in text
    assert subprocess.run(["bash", "-n", str(DEPLOY / "image" / "install.sh")]).returncode == 0
