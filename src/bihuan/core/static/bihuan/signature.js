// Bihuan signature pad: a finger (or a mouse, or a pen) draws on a canvas; the drawing
// goes into a hidden input as a PNG data URL, sent with the form it belongs to.
//
//   <div data-signature>
//     <canvas class="signature-pad"></canvas>
//     <input type="hidden" name="signature" data-signature-value>
//     <span data-signature-status data-empty="…" data-signed="…"></span>
//     <button type="button" data-signature-clear>…</button>
//   </div>
//
// Pointer events cover touch, mouse and pen alike. No inline script anywhere.
(function () {
  "use strict";

  function setup(box) {
    var canvas = box.querySelector("canvas");
    var input = box.querySelector("[data-signature-value]");
    var status = box.querySelector("[data-signature-status]");
    var clear = box.querySelector("[data-signature-clear]");
    if (!canvas || !input || !canvas.getContext) { return; }
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var last = null;
    var width = 0;

    function say() {
      if (status) {
        status.textContent = status.getAttribute(input.value ? "data-signed" : "data-empty") || "";
      }
    }

    function pen() {
      ctx.lineWidth = 2.6;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      ctx.fillStyle = "#111";
    }

    // The bitmap follows the box's size and the screen's density (capped: bytes matter).
    function fit() {
      var rect = canvas.getBoundingClientRect();
      if (!rect.width || rect.width === width) { return; }
      width = rect.width;
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      pen();
      if (input.value) {
        // Back from a refused submission, or the phone turned: draw the kept signature.
        var img = new Image();
        img.onload = function () { ctx.drawImage(img, 0, 0, rect.width, rect.height); };
        img.src = input.value;
      }
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) { return; }
      event.preventDefault();
      fit();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
    });

    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) { events = [event]; }
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      events.forEach(function (e) {
        var p = point(e);
        ctx.lineTo(p.x, p.y);
        last = p;
      });
      ctx.stroke();
    });

    function finish() {
      if (!drawing) { return; }
      drawing = false;
      last = null;
      input.value = canvas.toDataURL("image/png");
      say();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("lostpointercapture", finish);

    if (clear) {
      clear.addEventListener("click", function () {
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
        input.value = "";
        say();
      });
    }

    window.addEventListener("resize", function () {
      if (!drawing) { fit(); }
    });
    fit();
    say();
  }

  document.querySelectorAll("[data-signature]").forEach(setup);
})();
