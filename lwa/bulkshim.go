package lwa

import "github.com/alexa-oos/alexa"

// Configure returns cfg with defaults applied and, when cfg.Tokens is nil,
// a new Provider for its credentials.
//
// Deprecated: the bulk package's last use of it becomes
// cfg.WithDefaults() with cfg.Tokens set to NewProvider(cfg) when nil;
// Configure is then removed.
func Configure(cfg alexa.Config) alexa.Config {
	cfg = cfg.WithDefaults()
	if cfg.Tokens == nil {
		cfg.Tokens = NewProvider(cfg)
	}
	return cfg
}
