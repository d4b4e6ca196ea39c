module github.com/alexa-oos/alexa

go 1.26.0

require (
	golang.org/x/oauth2 v0.38.0
	golang.org/x/sync v0.25.0
)
