"""What warm sandboxes import ahead: only module names the verifier itself loaded, nothing else."""
import sys

from socklab.grading import warm


def test_learned_keeps_only_names_that_look_like_modules():
    """Are paths, code, non-strings and a flood refused, and real module names kept once, in order?"""
    learned = warm.Learned()
    learned.add(["socklab.protocols.calc", "os; import antigravity", "../etc", 3, "scapy.layers.inet",
                 "socklab.protocols.calc", ""])
    learned.add("socklab.clients")          # not a list: ignored
    assert learned.names() == ["socklab.protocols.calc", "scapy.layers.inet"]
    learned.add([f"m{i}" for i in range(warm.MAX_MODULES + 10)])
    assert len(learned.names()) == warm.MAX_MODULES


def test_the_kernel_preloads_course_modules_not_the_graders():
    """Does the student's kernel get socklab's course modules but neither the grader's nor other packages?"""
    assert warm.for_kernel(["socklab.servers", "socklab.grading.proxy", "scapy.all", "socklab"]) == \
        ["socklab.servers", "socklab"]


def test_loaded_since_names_modules_imported_after_the_snapshot():
    """Does a module imported after the snapshot show up, and one loaded before not?"""
    sys.modules.pop("colorsys", None)      # a small module nothing else here uses
    before = set(sys.modules)
    warm.preload(["colorsys", "no_such_module_here"])
    new = warm.loaded_since(before)
    assert "colorsys" in new and "no_such_module_here" not in new and "os" not in new
