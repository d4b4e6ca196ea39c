package benchtls

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Build builds the main package pkg (a path relative to the module's
// root, such as "./cmd/alexa-oos") into dir and returns the binary's path.
// moduleRoot is the directory holding go.mod.
func Build(moduleRoot, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out, nil
}

// Process is a server running in a child process (the tlsserver
// command): its CPU time is its own, as a real server's is.
type Process struct {
	// URL is the server's base URL.
	URL string
	// CertFile holds the server's certificate as PEM: set SSL_CERT_FILE
	// to it for a child process to trust the server.
	CertFile string

	cmd   *exec.Cmd
	stdin *os.File
}

// StartProcess starts the tlsserver binary with args (such as
// "-handler", "emulator"), its certificate written into dir, and waits
// until it serves.
func StartProcess(binary, dir string, args ...string) (*Process, error) {
	cert := filepath.Join(dir, "server-cert.pem")
	cmd := exec.Command(binary, append([]string{"-cert", cert}, args...)...)
	cmd.Stderr = os.Stderr
	// The server stops when its standard input closes: when this process
	// ends, however it ends.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r.Close()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		w.Close()
		cmd.Wait()
		return nil, fmt.Errorf("tlsserver: %v", err)
	}
	return &Process{URL: strings.TrimSpace(line), CertFile: cert, cmd: cmd, stdin: w}, nil
}

// CPU returns the CPU time (user and system) the server has used so far.
// It reads /proc, so it is 0 where there is none.
func (p *Process) CPU() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Clock ticks, 100 per second on every Linux Go runs on.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Close stops the server and waits for it.
func (p *Process) Close() error {
	p.stdin.Close()
	return p.cmd.Wait()
}

// TLSConfig returns a client TLS configuration trusting the server's
// certificate.
func (p *Process) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(p.CertFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tlsserver: no certificate in %s", p.CertFile)
	}
	return &tls.Config{RootCAs: roots}, nil
}

// StartServerProcess builds the tlsserver command of the module at
// moduleRoot into dir and starts it with args.
func StartServerProcess(moduleRoot, dir string, args ...string) (*Process, error) {
	bin, err := Build(moduleRoot, dir, "./internal/benchtls/tlsserver")
	if err != nil {
		return nil, err
	}
	return StartProcess(bin, dir, args...)
}
