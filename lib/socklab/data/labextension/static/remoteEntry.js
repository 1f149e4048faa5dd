// socklab's one lab plugin, written by hand (no build step): a module-federation container with a
// single module, "./extension", as JupyterLab 4 loads federated extensions.
// When nbgrader's Validate dialog opens, it asks the server for socklab check's verdict on the
// same notebook (GET socklab/verdict) and shows it on top: which tests ran, the autograded score,
// the exercises graded by hand. A pass that is not the whole story no longer reads "Success!".
var _JUPYTERLAB;
(function () {
  "use strict";
  function config() {
    var node = document.getElementById("jupyter-config-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function verdictUrl(path) {
    var base = config().baseUrl || "/";
    return base.replace(/\/?$/, "/") + "socklab/verdict?path=" + encodeURIComponent(path);
  }

  function show(message, result) {
    var box = document.createElement("div");
    box.className = "socklab-verdict";
    box.innerHTML = result.summary_html;
    var success = message.querySelector(":scope > div > p");
    if (message.classList.contains("validation-success") && success) {
      success.textContent = result.complete
        ? "통과: 숨겨진 테스트까지 모두 통과했습니다. / Passed: every test passes, hidden ones included."
        : (result.hidden_tests
          ? "자동 채점 테스트는 모두 통과했습니다. 강사 채점이 남아 있습니다. / All autograded tests pass; some exercises are graded by hand."
          : "보이는 테스트는 모두 통과했습니다. 채점 때 숨겨진 테스트가 더 있습니다. / The visible tests pass; the grader adds hidden tests.");
      message.classList.add(result.complete ? "socklab-complete" : "socklab-incomplete");
    }
    message.insertBefore(box, message.firstChild);
  }

  function annotate(app, message) {
    message.dataset.socklab = "pending";
    var widget = app.shell.currentWidget;
    var path = widget && widget.context ? widget.context.path : null;
    if (!path) { message.dataset.socklab = "no-notebook"; return; }
    var headers = {};
    var token = config().token;
    if (token) headers.Authorization = "token " + token;
    fetch(verdictUrl(path), {headers: headers, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (result) { show(message, result); message.dataset.socklab = "shown"; })
      .catch(function (error) { message.dataset.socklab = "failed: " + error; });
  }

  var plugin = {
    id: "socklab-lab:validate-verdict",
    description: "Shows socklab check's verdict in the Validate dialog.",
    autoStart: true,
    activate: function (app) {
      var observer = new MutationObserver(function () {
        var message = document.getElementById("validation-message");
        if (message && !message.dataset.socklab) annotate(app, message);
      });
      observer.observe(document.body, {childList: true, subtree: true});
    }
  };

  var container = {
    init: function () { return Promise.resolve(); },
    get: function (module) {
      if (module === "./extension") {
        return Promise.resolve(function () { return {__esModule: true, default: plugin}; });
      }
      return Promise.reject(new Error("socklab-lab has no module " + module));
    }
  };
  _JUPYTERLAB = window._JUPYTERLAB = window._JUPYTERLAB || {};
  _JUPYTERLAB["socklab-lab"] = container;
})();
