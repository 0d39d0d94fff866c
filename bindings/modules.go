package bindings

// modules are the ctrsh modules, in the order they are loaded.
var modules = []Module{}
