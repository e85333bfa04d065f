package atomicfile

// TestHookWritten, when not nil, is called by WriteFile with the target
// and the temporary's path once the new content has reached the temporary
// file and before it is synced and renamed over the target: the window in
// which a crash must leave the target as it was.
//
// It exists for crash tests, in this module's packages, that run a writer
// in a child process: the hook reports on a pipe and then blocks, so the
// parent's kill lands in that window every time instead of by luck. Only
// such a child process sets it, before any WriteFile call.
var TestHookWritten func(path, tmp string)
