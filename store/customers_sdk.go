package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// SDKCustomerInput is what the SDK face (seed 003) sends to create, adopt or ensure a customer.
type SDKCustomerInput struct {
	Email       string
	Name        string
	ExternalRef string
	Metadata    map[string]string
}

// SDKCustomerMode chooses between the two SDK entry points.
type SDKCustomerMode int

const (
	// SDKCreate is POST /v1/sdk/customers: a duplicate email is 409 unless the caller supplies
	// an externalRef, which is then linked onto the existing customer (seed 003).
	SDKCreate SDKCustomerMode = iota
	// SDKEnsure is ensure_customer: the existing customer of this externalRef or email is
	// returned, never a duplicate.
	SDKEnsure
)

// CreateOrAdoptCustomer runs the SDK's create/ensure rule in one transaction holding a lock on
// (merchant, email), so two concurrent calls for one email cannot both create a customer.
// created reports whether a new customer was inserted.
func (s *Store) CreateOrAdoptCustomer(ctx context.Context, merchant string, in SDKCustomerInput, mode SDKCustomerMode) (c domain.Customer, created bool, err error) {
	var changed string // the event of what the call did: created, updated or none
	createOrAdopt := func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"customer-email/"+merchant+"/"+strings.ToLower(in.Email)); err != nil {
			return err
		}
		if in.ExternalRef != "" {
			byRef, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerCols+` FROM customers
				WHERE merchant_id = $1 AND external_ref = $2 AND deleted_at IS NULL`, merchant, in.ExternalRef))
			if err == nil {
				if mode == SDKEnsure || strings.EqualFold(byRef.Email, in.Email) {
					c = byRef
					return nil
				}
				if byRef.Email == "" { // created without an email (admin face): fill it in
					var taken bool
					if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE merchant_id = $1
						AND deleted_at IS NULL AND lower(email) = lower($2))`, merchant, in.Email).Scan(&taken); err != nil {
						return err
					}
					if taken {
						return domain.Errorf(domain.CodeAlreadyExists, "email", "another customer has email %q", in.Email)
					}
					c, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET email = $3, updated_at = now()
						WHERE merchant_id = $1 AND id = $2 RETURNING `+customerCols, merchant, byRef.Ref, in.Email))
					changed = domain.EventCustomerUpdated
					return err
				}
				return domain.Errorf(domain.CodeAlreadyExists, "externalRef",
					"a customer with externalRef %q already exists (%s)", in.ExternalRef, byRef.Ref)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		byEmail, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerCols+` FROM customers
			WHERE merchant_id = $1 AND deleted_at IS NULL AND lower(email) = lower($2)
			ORDER BY created_at, id LIMIT 1`, merchant, in.Email))
		switch {
		case err == nil && in.ExternalRef == "" && mode == SDKEnsure:
			c = byEmail
			return nil
		case err == nil && in.ExternalRef == "":
			return domain.Errorf(domain.CodeAlreadyExists, "email",
				"a customer with email %q already exists (%s); send externalRef to adopt it", in.Email, byEmail.Ref)
		case err == nil && byEmail.ExternalRef != "":
			return domain.Errorf(domain.CodeAlreadyExists, "email",
				"a customer with email %q already exists (%s) with another externalRef", in.Email, byEmail.Ref)
		case err == nil:
			// adopt: link the caller's identity onto the pre-existing customer
			c, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET external_ref = $3, updated_at = now()
				WHERE merchant_id = $1 AND id = $2 RETURNING `+customerCols, merchant, byEmail.Ref, in.ExternalRef))
			changed = domain.EventCustomerUpdated
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		meta, _ := json.Marshal(nonNilMap(in.Metadata))
		c, err = scanCustomer(tx.QueryRow(ctx, `INSERT INTO customers (id, merchant_id, external_ref, email, name, metadata)
			VALUES ($1,$2,nullif($3,''),$4,$5,$6) RETURNING `+customerCols,
			domain.NewRef(domain.PrefixCustomer), merchant, in.ExternalRef, in.Email, in.Name, meta))
		created, changed = err == nil, domain.EventCustomerCreated
		return err
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if err := createOrAdopt(tx); err != nil || changed == "" {
			return err
		}
		return insertEvent(ctx, tx, customerEvent(ctx, changed, c))
	})
	if isUniqueViolation(err, "customers_external_ref") {
		return c, false, domain.Errorf(domain.CodeAlreadyExists, "externalRef", "a customer with externalRef %q already exists", in.ExternalRef)
	}
	return c, created, err
}

// EmailTaken reports whether another live customer of merchant (not except) has this email.
func (s *Store) EmailTaken(ctx context.Context, merchant, email, except string) (bool, error) {
	var taken bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE merchant_id = $1 AND deleted_at IS NULL
		AND lower(email) = lower($2) AND id <> $3)`, merchant, email, except).Scan(&taken)
	return taken, err
}

// ProcessorCustomerID is the payment processor's id for the customer ("" before the first card).
func (s *Store) ProcessorCustomerID(ctx context.Context, merchant, customerRef string) (string, error) {
	var id string
	err := s.Pool.QueryRow(ctx, `SELECT processor_customer_id FROM customers WHERE merchant_id = $1 AND id = $2
		AND deleted_at IS NULL`, merchant, customerRef).Scan(&id)
	return id, notFoundIfNoRows(err, "customer", customerRef)
}

// HasLivePurchases reports whether the customer has a purchase that has not ended.
func (s *Store) HasLivePurchases(ctx context.Context, merchant, customerRef string) (bool, error) {
	var live bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM purchases WHERE merchant_id = $1 AND customer_id = $2
		AND status IN `+LiveStatuses+`)`, merchant, customerRef).Scan(&live)
	return live, err
}
