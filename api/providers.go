package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payoutflow/payoutflow/metrics"
	"github.com/payoutflow/payoutflow/providers"
)

// providerCallTimeout bounds a read from a provider made while a client waits.
const providerCallTimeout = 15 * time.Second

var channelRE = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// providerNameRE is a well-formed provider's name, configured here or not; providerNameRule says it in words.
var providerNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

const providerNameRule = "a provider's name: a lower-case letter, then lower-case letters, digits or _ (32 at most)"

// sbpBanks lists the banks a provider pays to by SBP: GET /v1/sbp/banks?provider=<name>&name=сбер.
func (s *Server) sbpBanks(c echo.Context) error {
	p, err := s.providerFor(c)
	if err != nil {
		return err
	}
	lister, ok := p.(providers.BankLister)
	if !ok {
		return fieldError(http.StatusUnprocessableEntity, "provider", "not_supported", p.Name()+" has no SBP bank list")
	}
	name := strings.TrimSpace(c.QueryParam("name"))
	if len([]rune(name)) > 100 {
		return fieldError(http.StatusBadRequest, "name", "too_long", "name is longer than 100 characters")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), providerCallTimeout)
	defer cancel()
	start := time.Now()
	banks, err := lister.SBPBanks(ctx, name)
	metrics.ProviderCall(p.Name(), "sbp_banks", start, err)
	if err != nil {
		return s.providerError(c.Request().Context(), p.Name(), "list SBP banks", err)
	}
	if banks == nil {
		banks = []providers.Bank{}
	}
	return c.JSON(http.StatusOK, map[string]any{"provider": p.Name(), "banks": banks})
}

// balances tells the balance of the account a provider pays from: GET
// /v1/balances?provider=<name>&channel=openbank_direct.
func (s *Server) balances(c echo.Context) error {
	p, err := s.providerFor(c)
	if err != nil {
		return err
	}
	reader, ok := p.(providers.BalanceReader)
	if !ok {
		return fieldError(http.StatusUnprocessableEntity, "provider", "not_supported", p.Name()+" tells no balance")
	}
	channel := c.QueryParam("channel")
	if channel != "" && !channelRE.MatchString(channel) {
		return fieldError(http.StatusBadRequest, "channel", "invalid_channel",
			"channel is an account channel's name, such as openbank_direct or psb_direct")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), providerCallTimeout)
	defer cancel()
	start := time.Now()
	amount, err := reader.Balance(ctx, channel)
	metrics.ProviderCall(p.Name(), "balance", start, err)
	if err != nil {
		return s.providerError(c.Request().Context(), p.Name(), "read the balance", err)
	}
	out := map[string]any{"provider": p.Name(), "balance": amount}
	if channel != "" {
		out["channel"] = channel
	}
	return c.JSON(http.StatusOK, out)
}

// providerFor is the provider named by the query parameter provider, configured on this API: a malformed name is
// 400 unknown_provider, a well-formed one not configured here 422 provider_not_configured (as before the registry).
func (s *Server) providerFor(c echo.Context) (providers.Provider, error) {
	name := c.QueryParam("provider")
	if name == "" {
		return nil, fieldError(http.StatusBadRequest, "provider", "required", "provider is required, as ?provider=<name>")
	}
	if !providerNameRE.MatchString(name) {
		return nil, fieldError(http.StatusBadRequest, "provider", "unknown_provider",
			"provider is not one of "+strings.Join(s.cfg.Providers.Names(), ", ")+": it must be "+providerNameRule)
	}
	p, ok := s.cfg.Providers.Get(name)
	if !ok {
		return nil, fieldError(http.StatusUnprocessableEntity, "provider", "provider_not_configured",
			name+" is not configured on this server")
	}
	return p, nil
}

// providerError answers a failed read from a provider: the provider refused (422, with its code), or could not be
// asked (502).
func (s *Server) providerError(ctx context.Context, name, what string, err error) error {
	s.logger(ctx).Warn("provider call failed", "provider", name, "call", what, "error", err)
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Certainty == providers.Known {
		code := pe.Code
		if code == "" {
			code = "provider_refused"
		}
		return apiError(http.StatusUnprocessableEntity, code, name+" refused to "+what+": "+pe.Description)
	}
	return apiError(http.StatusBadGateway, "provider_unavailable", name+" could not be asked to "+what+" now; try again")
}
