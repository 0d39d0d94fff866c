package docker

import (
	"encoding/json"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Env is the environment c was configured with ("KEY=VALUE"), as its
// runtime's document says: the engine's Config.Env, a CRI runtime's OCI
// spec (process.env of the verbose info's runtimeSpec, or of the bundle
// read from disk). ok is false when the document has none.
func (c *Container) Env() (env []string, ok bool) {
	var doc struct {
		Config *struct {
			Env []string `json:"Env"`
		} `json:"Config"`
		Info *struct {
			Info *struct {
				RuntimeSpec *ociSpec `json:"runtimeSpec"`
			} `json:"info"`
		} `json:"info"`
		Spec *ociSpec `json:"spec"`
	}
	if json.Unmarshal(c.Raw, &doc) != nil {
		return nil, false
	}
	switch {
	case doc.Config != nil:
		return doc.Config.Env, true
	case doc.Info != nil && doc.Info.Info != nil && doc.Info.Info.RuntimeSpec != nil && doc.Info.Info.RuntimeSpec.Process != nil:
		return doc.Info.Info.RuntimeSpec.Process.Env, true
	case doc.Spec != nil && doc.Spec.Process != nil:
		return doc.Spec.Process.Env, true
	}
	return nil, false
}

type ociSpec struct {
	Process *struct {
		Env []string `json:"env"`
	} `json:"process"`
}

const envDoc = `c:env() --> array of "KEY=VALUE" | nil, err  (the environment the container was configured with: the engine's Config.Env, a CRI runtime's OCI spec)`

func luaEnv(L *lua.LState) int {
	c := Check(L, 1)
	if len(c.Raw) == 0 {
		if err := c.Refresh(luax.Ctx(L)); err != nil {
			return luax.Fail(L, err)
		}
	}
	env, ok := c.Env()
	if !ok {
		return luax.Fail(L, fmt.Errorf("%s: env: its runtime's document has no environment", c.Subject()))
	}
	L.Push(luax.ToLua(L, env))
	return 1
}
