package api

import (
	"net/http"
	"strings"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// productView is a product with its plans embedded (seed 003: "Plans are embedded in products").
type productView struct {
	domain.Product
	Plans []domain.Plan `json:"plans"`
}

type productInput struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata"`
}

func (in *productInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := required("name", in.Name); err != nil {
		return err
	}
	if err := maxLen("name", in.Name, 255); err != nil {
		return err
	}
	if err := maxLen("description", in.Description, 5000); err != nil {
		return err
	}
	if err := oneOf("status", in.Status, catalogStatuses...); err != nil {
		return err
	}
	return validMetadata(in.Metadata)
}

var catalogStatuses = []string{domain.StatusActive, domain.StatusInactive, domain.StatusArchived}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	var in productInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	p, err := s.store.CreateProduct(r.Context(), domain.Product{MerchantRef: merchantOf(r), Name: in.Name,
		Description: in.Description, Status: in.Status, Metadata: in.Metadata})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, productView{Product: p, Plans: []domain.Plan{}})
	return nil
}

// listProducts lists with ?status= and ?search= (name, description or reference).
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := oneOf("status", q.Get("status"), catalogStatuses...); err != nil {
		return err
	}
	list, total, err := s.store.ListProducts(r.Context(), merchantOf(r), store.ProductFilter{Status: q.Get("status"), Search: q.Get("search")}, p)
	if err != nil {
		return err
	}
	s.writeList(w, r, list, p, total)
	return nil
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) error {
	ctx, merchant := r.Context(), merchantOf(r)
	p, err := s.store.GetProduct(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	plans, _, err := s.store.ListPlans(ctx, merchant, p.Ref, store.Page{Page: 1, Limit: maxLimit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, productView{Product: p, Plans: plans})
	return nil
}

type productPatch struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	Status      *string           `json:"status"`
	Metadata    map[string]string `json:"metadata"`
}

func (in *productPatch) validate() error {
	if in.Name == nil && in.Description == nil && in.Status == nil && in.Metadata == nil {
		return domain.Errorf(domain.CodeMissingField, "body", "send at least one of name, description, status, metadata")
	}
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if err := required("name", *in.Name); err != nil {
			return err
		}
		if err := maxLen("name", *in.Name, 255); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := maxLen("description", *in.Description, 5000); err != nil {
			return err
		}
	}
	if in.Status != nil {
		if err := required("status", *in.Status); err != nil {
			return err
		}
		if err := oneOf("status", *in.Status, catalogStatuses...); err != nil {
			return err
		}
	}
	return validMetadata(in.Metadata)
}

func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request) error {
	var in productPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	p, err := s.store.UpdateProduct(r.Context(), merchantOf(r), r.PathValue("ref"),
		store.ProductPatch{Name: in.Name, Description: in.Description, Status: in.Status, Metadata: in.Metadata})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// deleteProduct soft-deletes the product and its plans; running purchases keep the plan they
// were bought with.
func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	if err := s.store.DeleteProduct(r.Context(), merchantOf(r), ref); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Reference: ref, Deleted: true})
	return nil
}

// productBalance is what a product has earned (get_product_balance): revenue is its succeeded
// payments in the product's main currency, in minor units; every currency is listed too.
type productBalance struct {
	ProductRef string                 `json:"productRef"`
	Revenue    int64                  `json:"revenue"`
	Refunded   int64                  `json:"refunded"`
	Net        int64                  `json:"net"`
	Currency   string                 `json:"currency"`
	Payments   int                    `json:"payments"`
	Refunds    int                    `json:"refunds"`
	Currencies []store.CurrencyTotals `json:"currencies"`
}

func (s *Server) getProductBalance(w http.ResponseWriter, r *http.Request) error {
	ctx, merchant := r.Context(), merchantOf(r)
	b, err := s.store.ProductBalance(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	main, err := s.mainCurrency(r, b.Currencies)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, productBalance{ProductRef: b.ProductRef, Revenue: main.Revenue, Refunded: main.Refunded,
		Net: main.Net, Currency: main.Currency, Payments: b.Payments, Refunds: b.Refunds, Currencies: b.Currencies})
	return nil
}

// mainCurrency picks the totals to headline: the only currency when there is one, otherwise the
// merchant's default currency (amounts in different currencies never add up).
func (s *Server) mainCurrency(r *http.Request, totals []store.CurrencyTotals) (store.CurrencyTotals, error) {
	if len(totals) == 1 {
		return totals[0], nil
	}
	m, err := s.store.GetMerchant(r.Context(), merchantOf(r))
	if err != nil {
		return store.CurrencyTotals{}, err
	}
	for _, t := range totals {
		if t.Currency == m.DefaultCurrency {
			return t, nil
		}
	}
	return store.CurrencyTotals{Currency: m.DefaultCurrency}, nil
}
