package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// openInBrowser opens url in the default browser, when this machine has a
// way to: the command in $BROWSER, else xdg-open (Linux and the BSDs),
// open (macOS) or the URL handler of Windows. It starts the opener and
// does not wait for it. Without an opener it returns an error saying so;
// "alexa-oos emulator --open" then prints a notice and serves on. getenv
// looks up $BROWSER and $PATH.
func openInBrowser(getenv func(string) string, url string) error {
	var name string
	var args []string
	if b := strings.TrimSpace(getenv("BROWSER")); b != "" {
		// $BROWSER is a ":"-separated list of commands; take the first,
		// with %s standing for the URL when it has one.
		first, _, _ := strings.Cut(b, string(os.PathListSeparator))
		fields := strings.Fields(first)
		if len(fields) > 0 {
			name, args = fields[0], fields[1:]
			if strings.Contains(first, "%s") {
				for j, f := range args {
					args[j] = strings.ReplaceAll(f, "%s", url)
				}
			} else {
				args = append(args, url)
			}
		}
	}
	if name == "" {
		switch runtime.GOOS {
		case "darwin":
			name, args = "open", []string{url}
		case "windows":
			name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
		default:
			name, args = "xdg-open", []string{url}
		}
	}
	path, err := lookPath(getenv, name)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	go cmd.Wait() // reap it; a browser opener exits at once or runs on
	return nil
}

// lookPath finds an executable by name in the $PATH of getenv (the
// command's environment, so that tests choose it), or as given when name
// is a path.
func lookPath(getenv func(string) string, name string) (string, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		if executable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s is not an executable file", name)
	}
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if runtime.GOOS == "windows" && filepath.Ext(p) == "" {
			p += ".exe"
		}
		if executable(p) {
			return p, nil
		}
	}
	return "", errors.New("no " + name + " found on the PATH to open a browser with")
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && (runtime.GOOS == "windows" || fi.Mode()&0o111 != 0)
}
