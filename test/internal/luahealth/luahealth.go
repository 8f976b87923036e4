// Package luahealth runs an Argo CD health check (a Lua script) on a resource the
// way Argo CD does, with gopher-lua, the interpreter Argo CD embeds: for the tests
// of the checks in config/argocd.
package luahealth

import lua "github.com/yuin/gopher-lua"

// Run runs a health script as Argo CD does: the resource in the global obj,
// only the safe standard libraries open, and a table {status, message} returned.
func Run(script string, obj map[string]any) (status, message string, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", err
	}
	result, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", errNotATable
	}
	return lua.LVAsString(result.RawGetString("status")), lua.LVAsString(result.RawGetString("message")), nil
}

type scriptError string

func (e scriptError) Error() string { return string(e) }

const errNotATable = scriptError("the script did not return a table")

// toLua converts a decoded JSON value the way Argo CD hands a resource to Lua:
// objects and arrays become tables (arrays 1-based), null becomes nil.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64: // integers of unstructured objects read from the API server
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}
