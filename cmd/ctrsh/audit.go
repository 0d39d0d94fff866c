package main

import (
	"encoding/json"
	"fmt"
	"log/syslog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// auditLog records every action that changes or enters a container, before
// it happens and again with its result: to syslog when /dev/log exists,
// else to a root-only JSON-lines file ($CTRSH_AUDIT_FILE moves it).
//
// As root the log fails closed, as sudo's I/O logging does: an action whose
// start record cannot be written is refused (Record returns the error).
// Otherwise a failure is a warning, given once.
type auditLog struct {
	mu       sync.Mutex
	playbook string
	sha256   string
	user     string
	syslog   *syslog.Writer
	path     string
	required bool  // a start record that cannot be written refuses the action
	err      error // the first write failure, reported once
	warn     func(string)
}

// defaultAuditFile is used when there is no syslog socket.
const defaultAuditFile = "/var/log/ctrsh/audit.jsonl"

func newAuditLog(playbook, sha string, warn func(string)) *auditLog {
	a := &auditLog{playbook: playbook, sha256: sha, user: invokingUser(), warn: warn, required: os.Geteuid() == 0}
	if p := os.Getenv("CTRSH_AUDIT_FILE"); p != "" {
		a.path = p
		return a
	}
	if _, err := os.Stat("/dev/log"); err == nil {
		if w, err := syslog.New(syslog.LOG_NOTICE|syslog.LOG_AUTH, "ctrsh"); err == nil {
			a.syslog = w
			return a
		}
	}
	a.path = defaultAuditFile
	if os.Geteuid() != 0 {
		if d, err := os.UserConfigDir(); err == nil {
			a.path = filepath.Join(d, "ctrsh", "audit.jsonl")
		}
	}
	return a
}

func invokingUser() string {
	if s := os.Getenv("SUDO_USER"); s != "" {
		return s
	}
	uid := strconv.Itoa(os.Getuid())
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

// Record writes one audit record; fields["phase"] is "start" or "end". The
// record's own fields (pid is ctrsh's) are not overridden by fields. The
// error, when the log is required and a start record could not be
// written, is "audit: ..." and means the action must not happen.
func (a *auditLog) Record(action, subject string, fields map[string]any) error {
	rec := make(map[string]any, len(fields)+7)
	for k, v := range fields {
		rec[k] = v
	}
	for k, v := range map[string]any{
		"time":     time.Now().UTC().Format(time.RFC3339Nano),
		"action":   action,
		"subject":  subject,
		"user":     a.user,
		"pid":      os.Getpid(),
		"playbook": a.playbook,
		"sha256":   a.sha256,
	} {
		rec[k] = v
	}
	b, err := json.Marshal(rec)
	if err == nil {
		a.mu.Lock()
		if a.syslog != nil {
			err = a.syslog.Notice(string(b))
		} else {
			err = appendPrivate(a.path, append(b, '\n'))
		}
		a.mu.Unlock()
	}
	if err == nil {
		return nil
	}
	if a.required && fields["phase"] == "start" {
		return fmt.Errorf("audit: %s %s refused: the audit log cannot be written: %w", action, subject, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
		if a.warn != nil {
			a.warn(fmt.Sprintf("audit log: %v", err))
		}
	}
	return nil
}

// appendPrivate appends to a file only its owner can read, in a directory
// only its owner can enter.
func appendPrivate(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(b)
	return err
}
