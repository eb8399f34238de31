package api

import "github.com/labstack/echo/v4"

// probes serves the process's liveness and readiness (Config.Health) on the API's own listener, where the load
// balancer and the orchestrator look. /healthz stays what it was: 200 when Temporal answers.
func (s *Server) probes(e *echo.Echo) {
	if s.cfg.Health == nil {
		return
	}
	h := echo.WrapHandler(s.cfg.Health)
	e.GET("/livez", h)
	e.GET("/readyz", h)
}
