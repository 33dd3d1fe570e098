package main

import "testing"

func TestPluginVersion(t *testing.T) {
	good := map[string]string{
		"4.25.0":           "4.25.0",
		"1.0":              "1.0.0",
		"3":                "3.0.0",
		"1.2.3.4":          "1.2.3.4",
		"1.2.3a4":          "1.2.3-alpha.4",
		"1.2.3b4":          "1.2.3-beta.4",
		"1.2.3rc4":         "1.2.3-rc.4",
		"1.2.3.post4":      "1.2.3+post4",
		"1.2.3.dev5":       "1.2.3+dev5",
		"1.2.3.post4.dev5": "1.2.3+post4dev5",
		"1.2.3rc1.post2":   "1.2.3-rc.1+post2",
	}
	for in, want := range good {
		got, err := pluginVersion(in)
		if err != nil || got != want {
			t.Errorf("pluginVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1!2.0", "1.2.3+local", "abc", "1.2.3a", "é1.0", "1..2"} {
		if got, err := pluginVersion(in); err == nil {
			t.Errorf("pluginVersion(%q) = %q; want an error", in, got)
		}
	}
}
