package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// The API's method rule, the one api/openapi.yaml states: a path takes the methods the contract gives it, and every
// path taking GET answers HEAD as GET does, without the body. Anything else, OPTIONS included (the API serves no
// browser, so no CORS), is 405 naming the path's methods in Allow.

// headAsGet (a Pre middleware: before routing) serves a HEAD request as the GET of its path, the body dropped.
// Echo routes by the method of the request net/http gave it, so that request is the one changed.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			r.Method = http.MethodGet
			c.Response().Writer = bodiless{c.Response().Writer}
		}
		return next(c)
	}
}

// bodiless is a ResponseWriter that sends the status and headers and drops the body.
type bodiless struct{ http.ResponseWriter }

func (b bodiless) Write(p []byte) (int, error) { return len(p), nil }

// noOptions answers OPTIONS 405 like any method a path does not take, and leaves OPTIONS out of every 405's Allow
// (echo's router answers OPTIONS 204 by itself and lists it).
func noOptions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string)
		if !ok {
			return next(c)
		}
		var kept []string
		for _, m := range strings.Split(allow, ",") {
			if m = strings.TrimSpace(m); m != "" && m != http.MethodOptions {
				kept = append(kept, m)
			}
		}
		c.Set(echo.ContextKeyHeaderAllow, strings.Join(kept, ", "))
		if c.Request().Method == http.MethodOptions {
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(kept, ", "))
			return echo.ErrMethodNotAllowed
		}
		return next(c)
	}
}
