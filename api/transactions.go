package api

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// transactionFilter reads the filters shared by the list and the stats: ?fromDate=&toDate=
// (YYYY-MM-DD, inclusive) and the customer, product and purchase in either spelling.
func transactionFilter(r *http.Request) (store.TransactionFilter, error) {
	var f store.TransactionFilter
	var err error
	if f.From, f.To, err = dateRange(r); err != nil {
		return f, err
	}
	if f.CustomerRef, err = queryAlias(r, "customerRef", "customerId"); err != nil {
		return f, err
	}
	if f.ProductRef, err = queryAlias(r, "productRef", "productReference"); err != nil {
		return f, err
	}
	if f.PurchaseRef, err = queryAlias(r, "purchaseRef", "purchaseId"); err != nil {
		return f, err
	}
	return f, nil
}

// listTransactions lists payments and refunds, newest first, with ?status= and ?type= too.
func (s *Server) listTransactions(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	f, err := transactionFilter(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f.Status, f.Kind = q.Get("status"), q.Get("type")
	if err := oneOf("status", f.Status, domain.TxnSucceeded, domain.TxnFailed, domain.TxnPending); err != nil {
		return err
	}
	if err := oneOf("type", f.Kind, domain.TxnPayment, domain.TxnRefund); err != nil {
		return err
	}
	list, total, err := s.store.ListTransactions(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getTransaction(w http.ResponseWriter, r *http.Request) error {
	t, err := s.store.GetTransaction(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// transactionStats is the seed's table: total, successful, failed, refunded and revenue, in
// minor units of one currency (all currencies are listed in currencies).
type transactionStats struct {
	FromDate       string                 `json:"fromDate,omitempty"`
	ToDate         string                 `json:"toDate,omitempty"`
	Total          int                    `json:"total"`
	Successful     int                    `json:"successful"`
	Failed         int                    `json:"failed"`
	Refunded       int                    `json:"refunded"`
	Pending        int                    `json:"pending"`
	Revenue        int64                  `json:"revenue"`
	RefundedAmount int64                  `json:"refundedAmount"`
	NetRevenue     int64                  `json:"netRevenue"`
	Currency       string                 `json:"currency"`
	Currencies     []store.CurrencyTotals `json:"currencies"`
}

func (s *Server) getTransactionStats(w http.ResponseWriter, r *http.Request) error {
	f, err := transactionFilter(r)
	if err != nil {
		return err
	}
	st, err := s.store.TransactionStats(r.Context(), merchantOf(r), f)
	if err != nil {
		return err
	}
	main, err := s.mainCurrency(r, st.Currencies)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, transactionStats{FromDate: q.Get("fromDate"), ToDate: q.Get("toDate"), Total: st.Total,
		Successful: st.Successful, Failed: st.Failed, Refunded: st.Refunded, Pending: st.Pending, Revenue: main.Revenue,
		RefundedAmount: main.Refunded, NetRevenue: main.Net, Currency: main.Currency, Currencies: st.Currencies})
	return nil
}
