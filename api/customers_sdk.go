package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
)

// sdkCustomer is the SolvaPay SDK serialisation of a customer (seed 003): reference is our cus_
// reference, externalRef the merchant's own id. The same row is the admin face's customer.
type sdkCustomer struct {
	Reference   string            `json:"reference"`
	ExternalRef *string           `json:"externalRef"`
	Email       string            `json:"email"`
	Name        string            `json:"name"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

func toSDKCustomer(c domain.Customer) sdkCustomer {
	out := sdkCustomer{Reference: c.Ref, Email: c.Email, Name: c.Name, Status: c.Status, Metadata: c.Metadata,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if c.ExternalRef != "" {
		ref := c.ExternalRef
		out.ExternalRef = &ref
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	return out
}

// sdkCustomerInput is the body of POST /v1/sdk/customers and …/ensure.
type sdkCustomerInput struct {
	Email       string            `json:"email"`
	Name        string            `json:"name"`
	ExternalRef string            `json:"externalRef"`
	Metadata    map[string]string `json:"metadata"`
}

func (in *sdkCustomerInput) validate() error {
	in.Email, in.Name, in.ExternalRef = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name), strings.TrimSpace(in.ExternalRef)
	if err := required("email", in.Email); err != nil {
		return err
	}
	if !domain.ValidEmail(in.Email) {
		return domain.Errorf(domain.CodeInvalidField, "email", "email %q is not a valid address", in.Email)
	}
	if err := maxLen("name", in.Name, 255); err != nil {
		return err
	}
	if err := maxLen("externalRef", in.ExternalRef, 255); err != nil {
		return err
	}
	return validMetadata(in.Metadata)
}

// validMetadata caps metadata the way Stripe does: 50 keys, keys 40 and values 500 characters.
func validMetadata(m map[string]string) error {
	if len(m) > 50 {
		return domain.Errorf(domain.CodeInvalidField, "metadata", "metadata has at most 50 keys")
	}
	for k, v := range m {
		if k == "" || len(k) > 40 {
			return domain.Errorf(domain.CodeInvalidField, "metadata", "metadata keys are 1 to 40 characters")
		}
		if len(v) > 500 {
			return domain.Errorf(domain.CodeInvalidField, "metadata."+k, "metadata values are at most 500 characters")
		}
	}
	return nil
}

// createSDKCustomer creates a customer. With an email that already exists, it links the
// caller's externalRef onto that customer and answers it with 200; without externalRef it is
// 409, so the behaviour is explicit (seed 003).
func (s *Server) createSDKCustomer(w http.ResponseWriter, r *http.Request) error {
	return s.createOrEnsure(w, r, store.SDKCreate)
}

// ensureSDKCustomer answers the customer of this externalRef or email, creating it only when
// neither exists: safe to call repeatedly (ensure_customer).
func (s *Server) ensureSDKCustomer(w http.ResponseWriter, r *http.Request) error {
	return s.createOrEnsure(w, r, store.SDKEnsure)
}

func (s *Server) createOrEnsure(w http.ResponseWriter, r *http.Request, mode store.SDKCustomerMode) error {
	var in sdkCustomerInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	c, created, err := s.store.CreateOrAdoptCustomer(r.Context(), merchantOf(r),
		store.SDKCustomerInput{Email: in.Email, Name: in.Name, ExternalRef: in.ExternalRef, Metadata: in.Metadata}, mode)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toSDKCustomer(c))
	return nil
}

func (s *Server) getSDKCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.GetCustomer(r.Context(), merchantOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSDKCustomer(c))
	return nil
}

// listSDKCustomers lists with ?search= (name, email or a reference), ?email= and ?externalRef=.
func (s *Server) listSDKCustomers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.CustomerFilter{ExternalRef: q.Get("externalRef"), Email: q.Get("email"), Search: q.Get("search")}
	list, total, err := s.store.ListCustomers(r.Context(), merchantOf(r), f, p)
	if err != nil {
		return err
	}
	out := make([]sdkCustomer, len(list))
	for i, c := range list {
		out[i] = toSDKCustomer(c)
	}
	s.writeList(w, r, out, p, total)
	return nil
}

// sdkCustomerPatch: only the fields supplied change (seed 003 "Update a customer").
type sdkCustomerPatch struct {
	Email       *string           `json:"email"`
	Name        *string           `json:"name"`
	ExternalRef *string           `json:"externalRef"`
	Metadata    map[string]string `json:"metadata"`
}

func (in *sdkCustomerPatch) validate() error {
	if in.Email == nil && in.Name == nil && in.ExternalRef == nil && in.Metadata == nil {
		return domain.Errorf(domain.CodeMissingField, "body", "send at least one of email, name, externalRef, metadata")
	}
	if in.Email != nil {
		*in.Email = strings.TrimSpace(*in.Email)
		if !domain.ValidEmail(*in.Email) {
			return domain.Errorf(domain.CodeInvalidField, "email", "email %q is not a valid address", *in.Email)
		}
	}
	if in.Name != nil {
		if err := maxLen("name", *in.Name, 255); err != nil {
			return err
		}
	}
	if in.ExternalRef != nil {
		*in.ExternalRef = strings.TrimSpace(*in.ExternalRef)
		if err := maxLen("externalRef", *in.ExternalRef, 255); err != nil {
			return err
		}
	}
	return validMetadata(in.Metadata)
}

// updateSDKCustomer backfills or changes externalRef, name, email or metadata. An email that
// another customer has is 409, as on create.
func (s *Server) updateSDKCustomer(w http.ResponseWriter, r *http.Request) error {
	var in sdkCustomerPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	cur, err := s.store.GetCustomer(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if in.Email != nil && !strings.EqualFold(*in.Email, cur.Email) {
		taken, err := s.store.EmailTaken(ctx, merchant, *in.Email, cur.Ref)
		if err != nil {
			return err
		}
		if taken {
			return domain.Errorf(domain.CodeAlreadyExists, "email", "another customer has email %q", *in.Email)
		}
	}
	c, err := s.store.UpdateCustomer(ctx, merchant, cur.Ref, store.CustomerPatch{Email: in.Email, Name: in.Name,
		ExternalRef: in.ExternalRef, Metadata: in.Metadata})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSDKCustomer(c))
	return nil
}

// deleted is the answer to a DELETE.
type deleted struct {
	Reference string `json:"reference"`
	Deleted   bool   `json:"deleted"`
}

// deleteSDKCustomer soft-deletes: transactions keep pointing at the customer. A customer who is
// still being billed is refused, so no workflow goes on charging a deleted customer.
func (s *Server) deleteSDKCustomer(w http.ResponseWriter, r *http.Request) error {
	ctx, merchant := r.Context(), merchantOf(r)
	c, err := s.store.GetCustomer(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	live, err := s.store.HasLivePurchases(ctx, merchant, c.Ref)
	if err != nil {
		return err
	}
	if live {
		return domain.Errorf(domain.CodeConflict, "", "customer %s has purchases that have not ended; cancel them first", c.Ref)
	}
	if err := s.store.DeleteCustomer(ctx, merchant, c.Ref); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deleted{Reference: c.Ref, Deleted: true})
	return nil
}
