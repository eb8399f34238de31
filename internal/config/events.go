package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Events configures the signed events pushed to backends (README, "Events").
type Events struct {
	// Endpoints are EVENTS_URL's URLs, each with its secrets from EVENTS_SECRET at the same position.
	Endpoints []EventEndpoint
	// RetryMax is EVENTS_RETRY_MAX: the longest wait between two attempts of a delivery (1h).
	RetryMax time.Duration
	// Timeout is EVENTS_TIMEOUT: how long one attempt waits for the endpoint's answer (10s).
	Timeout time.Duration
	// Settle is EVENTS_SETTLE: how old an event must be before GET /v1/events lists it (5s), so that a cursor never
	// passes an event that Temporal's visibility shows late.
	Settle time.Duration
	// CommitBound is EVENTS_COMMIT_BOUND: the longest an event takes from its stamp to its commit (10s, at most
	// 120s): the API gives a payout's start at most that long, and a payout's workflow task times out after it.
	CommitBound time.Duration
}

// EventEndpoint is one endpoint and its signing secrets, the current one first (more while rotating).
type EventEndpoint struct {
	URL     string
	Secrets []string
	// For is the name of the API key whose payouts the endpoint gets (EVENTS_FOR), or EveryPayout (also when empty).
	For string
}

// EveryPayout is the EVENTS_FOR entry of an endpoint that gets the events of every payout, whoever created it.
const EveryPayout = "*"

// URLsFor are the URLs of the endpoints that get the events of a payout the API key named creator created: its
// backend's and those for every payout, in EVENTS_URL's order.
func (e Events) URLsFor(creator string) []string {
	var urls []string
	for _, ep := range e.Endpoints {
		if ep.For == EveryPayout || ep.For == "" || ep.For == creator {
			urls = append(urls, ep.URL)
		}
	}
	return urls
}

// URLs are the endpoints' URLs, in EVENTS_URL's order.
func (e Events) URLs() []string {
	urls := make([]string, len(e.Endpoints))
	for i, ep := range e.Endpoints {
		urls[i] = ep.URL
	}
	return urls
}

// keyNameRE is what an API key's name may be (api/keys.go holds the same rule).
var keyNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)

// minEventSecret is the shortest secret EVENTS_SECRET takes.
const minEventSecret = 16

// loadEvents reads EVENTS_URL (comma-separated URLs), EVENTS_FOR (whose payouts each gets), EVENTS_SECRET (comma-separated, one per URL in the same
// order; several secrets of one endpoint separated by spaces, the signing one first), EVENTS_RETRY_MAX,
// EVENTS_TIMEOUT, EVENTS_SETTLE and EVENTS_COMMIT_BOUND. Outside make run every URL must be https.
func loadEvents(dev bool) (Events, error) {
	var e Events
	var err error
	if e.RetryMax, err = duration("EVENTS_RETRY_MAX", time.Hour); err != nil {
		return e, err
	}
	if e.Timeout, err = duration("EVENTS_TIMEOUT", 10*time.Second); err != nil {
		return e, err
	}
	if e.Settle, err = duration("EVENTS_SETTLE", 5*time.Second); err != nil {
		return e, err
	}
	if e.CommitBound, err = duration("EVENTS_COMMIT_BOUND", 10*time.Second); err != nil {
		return e, err
	}
	if e.CommitBound > 120*time.Second {
		return e, fmt.Errorf("EVENTS_COMMIT_BOUND: %s is over 120s, Temporal's longest workflow task timeout", e.CommitBound)
	}
	urls, secrets := list(os.Getenv("EVENTS_URL")), list(os.Getenv("EVENTS_SECRET"))
	if len(urls) != len(secrets) {
		return e, fmt.Errorf("EVENTS_SECRET: %d secrets for %d URLs in EVENTS_URL: give one per URL, in the same order, "+
			"separated by commas", len(secrets), len(urls))
	}
	owners := list(os.Getenv("EVENTS_FOR"))
	if len(owners) == 0 {
		owners = make([]string, len(urls))
		for i := range owners {
			owners[i] = EveryPayout
		}
	}
	if len(owners) != len(urls) {
		return e, fmt.Errorf("EVENTS_FOR: %d entries for %d URLs in EVENTS_URL: give for each URL, in the same order, "+
			"the API key name whose payouts it gets, or * for every payout", len(owners), len(urls))
	}
	for i, o := range owners {
		if o != EveryPayout && !keyNameRE.MatchString(o) {
			return e, fmt.Errorf("EVENTS_FOR: entry %d is neither an API key name nor *", i+1)
		}
	}
	seen := map[string]bool{}
	for i, raw := range urls {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			return e, fmt.Errorf("EVENTS_URL: entry %d is not an absolute URL such as https://backend.example.com/payoutflow", i+1)
		case u.Scheme != "https" && !dev:
			return e, fmt.Errorf("EVENTS_URL: entry %d (%s) is not https: events carry payouts, and plain http is "+
				"allowed only under make run", i+1, u.Host)
		case u.User != nil:
			return e, fmt.Errorf("EVENTS_URL: entry %d (%s) carries a user or password: the secret belongs in EVENTS_SECRET", i+1, u.Host)
		case seen[raw]:
			return e, fmt.Errorf("EVENTS_URL: entry %d (%s) is listed twice", i+1, u.Host)
		}
		seen[raw] = true
		ss := strings.Fields(secrets[i])
		for _, s := range ss {
			if len(s) < minEventSecret {
				return e, fmt.Errorf("EVENTS_SECRET: the secret of entry %d (%s) is shorter than %d characters", i+1, u.Host, minEventSecret)
			}
		}
		e.Endpoints = append(e.Endpoints, EventEndpoint{URL: raw, Secrets: ss, For: owners[i]})
	}
	return e, nil
}

// list splits a comma-separated variable into its trimmed, non-empty entries.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
