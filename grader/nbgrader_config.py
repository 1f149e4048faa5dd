"""nbgrader configuration for the socklab course.

The course root is the repository: ``solutions/`` is nbgrader's source folder and
``notebooks/`` its release folder, so ``nbgrader generate_assignment`` (``make release``)
writes the student notebooks. Everything the instructor's runs produce (gradebook,
submissions, feedback, the local exchange) stays under ``grader/`` and out of git.
"""
import os

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "socklab"
c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grader", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grader", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grader", "feedback")
c.CourseDirectory.solution_directory = os.path.join("grader", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db")
# Text sources (NN.M-title.md, jupytext MyST) are the course source, never part of a release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "[0-9][0-9].[0-9]*.md"]

# A local exchange so formgrader's release/collect buttons work on one machine; on a class hub
# (`make hub`) every account shares the hub's exchange, which SOCKLAB_EXCHANGE names.
c.Exchange.root = os.environ.get("SOCKLAB_EXCHANGE") or os.path.join(_here, "exchange")

# Every cell is bounded; a cell that ignores the interrupt fails the submission quickly.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearOutput.enabled = True
