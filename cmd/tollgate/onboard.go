package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/store"
)

// Merchant onboarding against DATABASE_URL: `tollgate merchants …` and `tollgate keys …`. They
// go through the same store functions and checks as the admin API (/admin/v1), so a bad value
// gets the API's code and message, the field named as the flag that carries it.

type subcommand struct {
	name, args, summary string
	run                 func(ctx context.Context, st *store.Store, fs *flag.FlagSet, pos []string, e env, out *output) error
	flags               func(fs *flag.FlagSet) // binds the subcommand's own flags
	positional          int                    // how many arguments it takes besides flags (0 or 1)
}

type output struct{ json bool }

func runMerchants(ctx context.Context, args []string, e env) error {
	var name, legal, email, logo, currency string
	var merchant, webhookSecret string
	var stripeIn processors.StripeSettings
	var enc config
	bindEncryption := func(fs *flag.FlagSet) { enc.bindEncryption(fs, e) }
	// accounts opens the merchants' Stripe accounts with the encryption flags' keys
	accounts := func(st *store.Store) (*processors.Accounts, error) {
		keys, err := enc.keyring()
		return &processors.Accounts{Store: st, Keys: keys}, err
	}
	fields := func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "the merchant's name, shown to its customers")
		fs.StringVar(&legal, "legal-name", "", "the legal name on receipts (default: the name)")
		fs.StringVar(&email, "support-email", "", "where customers write for help")
		fs.StringVar(&logo, "logo-url", "", "the logo on hosted pages: an http(s) URL or a path on this server")
		fs.StringVar(&currency, "currency", "", "default currency, ISO 4217 (default USD)")
	}
	// patch holds the flags given on the command line: an update changes those alone.
	patch := func(fs *flag.FlagSet) store.MerchantPatch {
		var p store.MerchantPatch
		fs.Visit(func(f *flag.Flag) {
			v := f.Value.String()
			switch f.Name {
			case "name":
				p.Name = &v
			case "legal-name":
				p.LegalName = &v
			case "support-email":
				p.SupportEmail = &v
			case "logo-url":
				p.LogoURL = &v
			case "currency":
				p.Currency = &v
			}
		})
		return p
	}
	return runSubcommands(ctx, "merchants", "Create, list, show and update merchants, and set their own Stripe accounts (against DATABASE_URL).", args, e, []subcommand{
		{name: "create", summary: "create a merchant and print its reference and first keys (one sandbox, one live)", flags: fields,
			run: func(ctx context.Context, st *store.Store, fs *flag.FlagSet, _ []string, e env, out *output) error {
				p := patch(fs)
				if p.Name == nil {
					return domain.Errorf(domain.CodeMissingField, "name", "name is required")
				}
				m, keys, err := st.OnboardMerchant(ctx, p)
				if err != nil {
					return err
				}
				if out.json {
					return printJSON(e, map[string]any{"merchant": m, "keys": keys})
				}
				fmt.Fprintf(e.stdout, "merchant %s (%s)\n\n", m.Ref, m.Name)
				printNewKeys(e, keys)
				return nil
			}},
		{name: "list", summary: "list every merchant",
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, _ []string, e env, out *output) error {
				ms, err := st.ListMerchants(ctx)
				if err != nil || out.json {
					return errOrJSON(e, err, ms)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "REFERENCE\tNAME\tCURRENCY\tSUPPORT\tCREATED")
				for _, m := range ms {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Ref, m.Name, m.DefaultCurrency, dash(m.SupportContact), m.CreatedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			}},
		{name: "show", args: "MERCHANT", summary: "show a merchant", positional: 1,
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, pos []string, e env, out *output) error {
				m, err := st.GetMerchant(ctx, pos[0])
				if err != nil {
					return err
				}
				info, err := (&processors.Accounts{Store: st}).Info(ctx, m.Ref)
				if err != nil || out.json {
					return errOrJSON(e, err, struct {
						store.Merchant
						Stripe processors.StripeInfo `json:"stripe"`
					}{m, info})
				}
				printMerchant(e, m, stripeRow(info))
				return nil
			}},
		{name: "set-stripe", summary: "set the merchant's own Stripe account (its keys stored encrypted with TOLLGATE_ENCRYPTION_KEY)",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&merchant, "merchant", "", "the merchant's reference (mer_…)")
				fs.StringVar(&stripeIn.SecretKey, "secret-key", "", "the merchant's Stripe secret key: sk_live_… or sk_test_… (or a restricted rk_ key)")
				fs.StringVar(&stripeIn.PublishableKey, "publishable-key", "", "its publishable key, pk_… of the same mode: its pages take cards with it")
				fs.StringVar(&webhookSecret, "webhook-secret", "", "the signing secret (whsec_…) of its Stripe endpoint at /v1/webhooks/stripe/<merchant>; not given: kept; empty: removed")
				bindEncryption(fs)
			},
			run: func(ctx context.Context, st *store.Store, fs *flag.FlagSet, _ []string, e env, out *output) error {
				if merchant == "" {
					return domain.Errorf(domain.CodeMissingField, "merchant", "merchant is required")
				}
				fs.Visit(func(f *flag.Flag) {
					if f.Name == "webhook-secret" {
						stripeIn.WebhookSecret = &webhookSecret
					}
				})
				acc, err := accounts(st)
				if err != nil {
					return err
				}
				info, err := acc.Set(ctx, merchant, stripeIn)
				if err != nil || out.json {
					return errOrJSON(e, err, info)
				}
				printStripe(e, info)
				return nil
			}},
		{name: "remove-stripe", summary: "forget the merchant's own Stripe account: it uses the deployment's STRIPE_SECRET_KEY again",
			flags: func(fs *flag.FlagSet) { fs.StringVar(&merchant, "merchant", "", "the merchant's reference (mer_…)") },
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, _ []string, e env, out *output) error {
				if merchant == "" {
					return domain.Errorf(domain.CodeMissingField, "merchant", "merchant is required")
				}
				info, err := (&processors.Accounts{Store: st}).Remove(ctx, merchant)
				if err != nil || out.json {
					return errOrJSON(e, err, info)
				}
				printStripe(e, info)
				return nil
			}},
		{name: "reencrypt", summary: "seal every merchant's Stripe secrets with the current TOLLGATE_ENCRYPTION_KEY (after a key rotation)",
			flags: bindEncryption,
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, _ []string, e env, out *output) error {
				acc, err := accounts(st)
				if err != nil {
					return err
				}
				resealed, current, err := acc.Reseal(ctx)
				if out.json && err == nil {
					return printJSON(e, map[string]int{"resealed": resealed, "alreadyCurrent": current})
				}
				fmt.Fprintf(e.stdout, "resealed the Stripe secrets of %d merchants under key %s; %d were already under it\n", resealed, acc.Keys.KeyID(), current)
				return err
			}},
		{name: "update", args: "MERCHANT", summary: "change the fields given", positional: 1, flags: fields,
			run: func(ctx context.Context, st *store.Store, fs *flag.FlagSet, pos []string, e env, out *output) error {
				m, err := st.UpdateMerchant(ctx, pos[0], patch(fs))
				if err != nil || out.json {
					return errOrJSON(e, err, m)
				}
				printMerchant(e, m)
				return nil
			}},
	})
}

func runKeys(ctx context.Context, args []string, e env) error {
	var merchant, mode, name string
	var readOnly bool
	var expireOldIn time.Duration
	return runSubcommands(ctx, "keys", "Create, list, revoke and rotate a merchant's API keys (against DATABASE_URL).", args, e, []subcommand{
		{name: "create", summary: "create a key and print its secret (shown once)",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&merchant, "merchant", "", "the merchant's reference (mer_…)")
				fs.StringVar(&mode, "mode", "", "sandbox or live")
				fs.StringVar(&name, "name", "", "a name to recognise the key by")
				fs.BoolVar(&readOnly, "read-only", false, "the key may only read: POST, PATCH and DELETE answer 403")
			},
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, _ []string, e env, out *output) error {
				if merchant == "" {
					return domain.Errorf(domain.CodeMissingField, "merchant", "merchant is required")
				}
				k, err := st.CreateAPIKey(ctx, merchant, store.KeySpec{Mode: mode, Name: name, ReadOnly: readOnly})
				if err != nil || out.json {
					return errOrJSON(e, err, k)
				}
				printNewKeys(e, []store.NewKey{k})
				return nil
			}},
		{name: "list", summary: "list a merchant's keys (never their secrets)",
			flags: func(fs *flag.FlagSet) { fs.StringVar(&merchant, "merchant", "", "the merchant's reference (mer_…)") },
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, _ []string, e env, out *output) error {
				if merchant == "" {
					return domain.Errorf(domain.CodeMissingField, "merchant", "merchant is required")
				}
				ks, err := st.ListAPIKeys(ctx, merchant)
				if err != nil || out.json {
					return errOrJSON(e, err, ks)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tMODE\tACCESS\tCREATED\tLAST USED\tSTATE")
				for _, k := range ks {
					fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, dash(k.Name), k.Mode, access(k.ReadOnly),
						k.CreatedAt.UTC().Format(time.RFC3339), stamp(k.LastUsedAt), keyState(k, time.Now()))
				}
				return tw.Flush()
			}},
		{name: "revoke", args: "KEY_ID", summary: "stop a key now, on every API replica", positional: 1,
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, pos []string, e env, out *output) error {
				k, err := st.RevokeAPIKey(ctx, pos[0])
				if err != nil || out.json {
					return errOrJSON(e, err, k)
				}
				fmt.Fprintf(e.stdout, "key %s (%s…) revoked at %s\n", k.ID, k.Prefix, stamp(k.RevokedAt))
				return nil
			}},
		{name: "rotate", args: "KEY_ID", summary: "make a new key like this one; the old one works for --expire-old-in more", positional: 1,
			flags: func(fs *flag.FlagSet) {
				fs.DurationVar(&expireOldIn, "expire-old-in", 24*time.Hour, "how long the old key keeps working (0: revoked now)")
			},
			run: func(ctx context.Context, st *store.Store, _ *flag.FlagSet, pos []string, e env, out *output) error {
				k, old, err := st.RotateAPIKey(ctx, pos[0], expireOldIn)
				if err != nil || out.json {
					return errOrJSON(e, err, map[string]any{"key": k, "old": old})
				}
				printNewKeys(e, []store.NewKey{k})
				fmt.Fprintf(e.stdout, "the old key %s (%s…) stops working at %s\n", old.ID, old.Prefix, stamp(old.ExpiresAt))
				return nil
			}},
	})
}

// runSubcommands parses `<group> <sub> [ARG] [flags]`, opens the store and runs sub. Flags may
// come before or after the argument.
func runSubcommands(ctx context.Context, group, summary string, args []string, e env, subs []subcommand) error {
	groupUsage := func() {
		fmt.Fprintf(e.stdout, "Usage: tollgate %s <command> [flags]\n\n%s\n\nCommands:\n", group, summary)
		for _, s := range subs {
			fmt.Fprintf(e.stdout, "  %-13s %-9s %s\n", s.name, s.args, s.summary)
		}
		fmt.Fprintf(e.stdout, "\ntollgate %s <command> --help lists its flags.\n", group)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		groupUsage()
		if len(args) == 0 {
			return fmt.Errorf("tollgate %s: name a command", group)
		}
		return flag.ErrHelp
	}
	var sub *subcommand
	for i := range subs {
		if subs[i].name == args[0] {
			sub = &subs[i]
		}
	}
	if sub == nil {
		groupUsage()
		return fmt.Errorf("tollgate %s: unknown command %q", group, args[0])
	}
	var c config
	var out output
	fs := newFlagSet(group+" "+sub.name+" "+sub.args, sub.summary+".", e)
	c.bindDatabase(fs, e)
	fs.BoolVar(&out.json, "json", false, "print JSON instead of text")
	if sub.flags != nil {
		sub.flags(fs)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != sub.positional {
		if len(pos) < sub.positional {
			return fmt.Errorf("%s %s: name the %s: tollgate %s %s %s", domain.CodeMissingField, sub.args,
				strings.ToLower(strings.ReplaceAll(sub.args, "_", " ")), group, sub.name, sub.args)
		}
		return fmt.Errorf("tollgate %s %s: unexpected argument %q", group, sub.name, pos[sub.positional])
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return cliError(sub.run(ctx, st, fs, pos, e, &out))
}

// parseInterspersed parses flags wherever they stand among the arguments, which it answers.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// cliError shows a refusal as the API words it, the field named as its flag:
// INVALID_FIELD --support-email: supportEmail "x" is not a valid address.
func cliError(err error) error {
	var e *domain.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	if e.Field == "" || e.Field == "body" {
		return fmt.Errorf("%s: %s", e.Code, e.Message)
	}
	return fmt.Errorf("%s %s: %s", e.Code, flagName(e.Field), e.Message)
}

// flagName is the flag of an API field: supportEmail → --support-email.
func flagName(field string) string {
	var b strings.Builder
	b.WriteString("--")
	for _, r := range field {
		if unicode.IsUpper(r) {
			b.WriteByte('-')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func errOrJSON(e env, err error, v any) error {
	if err != nil {
		return err
	}
	return printJSON(e, v)
}

func printJSON(e env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printMerchant prints the merchant's fields as one table, extra rows (its Stripe) aligned with them.
func printMerchant(e env, m store.Merchant, extra ...[2]string) {
	printRows(e, append([][2]string{{"reference", m.Ref}, {"name", m.Name}, {"legal name", m.LegalName},
		{"support email", dash(m.SupportContact)}, {"logo", dash(m.LogoURL)}, {"currency", m.DefaultCurrency},
		{"created", m.CreatedAt.UTC().Format(time.RFC3339)}}, extra...))
}

func printRows(e env, rows [][2]string) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	tw.Flush()
}

func printStripe(e env, info processors.StripeInfo) { printRows(e, [][2]string{stripeRow(info)}) }

// stripeRow says which Stripe account the merchant's live mode uses.
func stripeRow(info processors.StripeInfo) [2]string {
	if !info.Own {
		return [2]string{"stripe", "the deployment's (STRIPE_SECRET_KEY)"}
	}
	wh := "no webhook secret"
	if info.WebhookSecret {
		wh = "webhook secret set: /v1/webhooks/stripe/" + info.MerchantRef
	}
	return [2]string{"stripe", fmt.Sprintf("its own: %s, %s, %s (sealed under key %s)", info.SecretKeyHint, info.PublishableKey, wh, info.KeyID)}
}

func printNewKeys(e env, keys []store.NewKey) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s key %s\t%s\t(%s)\n", k.Mode, k.ID, k.Secret, access(k.ReadOnly))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "\nKeep the secrets now: they are stored hashed and cannot be shown again.")
}

func access(readOnly bool) string {
	if readOnly {
		return "read-only"
	}
	return "read-write"
}

func keyState(k store.KeyInfo, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked " + stamp(k.RevokedAt)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired " + stamp(k.ExpiresAt)
	case k.ExpiresAt != nil:
		return "expires " + stamp(k.ExpiresAt)
	}
	return "active"
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
