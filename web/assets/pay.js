// /pay/<token> at Stripe: Stripe.js confirms the PaymentIntent that asked for authentication,
// opening the bank's 3-D Secure step, then the form tells the server. No inline script: the CSP
// forbids it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) return;
  window.addEventListener("load", function () {
    if (!window.Stripe) return;
    var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
    var errors = document.getElementById("pay-errors");
    var button = document.getElementById("confirm");
    form.addEventListener("submit", function (e) {
      if (form.dataset.confirmed) return;
      e.preventDefault();
      button.disabled = true;
      stripe.confirmCardPayment(form.getAttribute("data-client-secret"), {
        payment_method: form.getAttribute("data-payment-method")
      }).then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message;
          errors.hidden = false;
          button.disabled = false;
          return;
        }
        form.dataset.confirmed = "1";
        form.submit();
      });
    });
  });
})();
