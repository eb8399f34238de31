package api

import (
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// bodyLimits bounds request bodies: a provider's webhook or verification may be up to maxWebhookBody, every other
// request up to maxRequestBody. It applies to every route alike (a middleware on the /v1 group would make echo
// answer a wrong method there 404 instead of 405), and a body over the limit is 413 body_too_large naming it.
func bodyLimits() echo.MiddlewareFunc {
	api := limited(maxRequestBody, "64 KiB (65536 bytes)")
	hooks := limited(maxWebhookBody, "1 MiB (1048576 bytes)")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		toAPI, toHooks := api(next), hooks(next)
		return func(c echo.Context) error {
			if strings.HasPrefix(c.Request().URL.Path, "/webhooks/") {
				return toHooks(c)
			}
			return toAPI(c)
		}
	}
}

func limited(limit, said string) echo.MiddlewareFunc {
	bodyLimit := middleware.BodyLimit(limit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := bodyLimit(next)
		return func(c echo.Context) error {
			err := h(c)
			var he *echo.HTTPError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return apiError(http.StatusRequestEntityTooLarge, "body_too_large",
					"the request body is larger than "+said+", the limit of this endpoint")
			}
			return err
		}
	}
}

// methodNotAllowed is the message of a 405: the method, the path and the methods the path takes (echo has set them
// in the Allow header).
func methodNotAllowed(c echo.Context) string {
	return fmt.Sprintf("%s is not allowed on %s; it takes %s", c.Request().Method, maskedPath(c.Request().URL.Path),
		c.Response().Header().Get(echo.HeaderAllow))
}

// integerRule says what an integer field takes; amount.value is money in minor units.
func integerRule(field string) string {
	if field == "amount.value" || strings.HasSuffix(field, ".amount.value") {
		return field + " must be an integer number of minor units (kopecks): 10000 is 100.00 RUB"
	}
	return field + " must be an integer"
}

// integerError answers a JSON value that an integer field cannot take: a string or other non-number is
// invalid_type, a number with a fraction or an exponent not_an_integer, a whole number beyond the field's range
// out_of_range.
func integerError(field, value string, t reflect.Type) *Error {
	number, ok := strings.CutPrefix(value, "number ")
	if !ok {
		return fieldError(http.StatusBadRequest, field, "invalid_type", integerRule(field))
	}
	f, _, err := big.ParseFloat(number, 10, 256, big.ToNearestEven)
	if err == nil && f.IsInt() && !strings.ContainsAny(number, ".eE") {
		return fieldError(http.StatusBadRequest, field, "out_of_range",
			fmt.Sprintf("%s, at most %d", integerRule(field), maxOf(t)))
	}
	return fieldError(http.StatusBadRequest, field, "not_an_integer",
		integerRule(field)+", written without a fraction or an exponent")
}

func maxOf(t reflect.Type) uint64 {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 1<<(t.Bits()) - 1
	}
	return 1<<(t.Bits()-1) - 1
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
