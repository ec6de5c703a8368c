/*
 * Data, not code: which modules ship with Windows (and its runtimes), and which frames only wait or dispatch.
 * Blame goes to the first module below the waits that explains the hang, a third-party one over an OS one.
 */
const OS_MODULES = new Set(
  [
    'nt', 'ntoskrnl', 'ntkrnlmp', 'ntkrnlpa', 'ntkrpamp', 'hal', 'halmacpi', 'kdcom', 'ci', 'clfs', 'fltmgr', 'ntfs', 'refs',
    'fastfat', 'mup', 'rdbss', 'mrxsmb', 'mrxsmb10', 'mrxsmb20', 'smb', 'srv', 'srv2', 'srvnet', 'netbt', 'tcpip', 'tcpip6',
    'afd', 'netio', 'ndis', 'http', 'tdx', 'wfplwfs', 'mpio', 'msdsm', 'storport', 'scsiport', 'ataport', 'disk', 'classpnp',
    'partmgr', 'volmgr', 'volmgrx', 'volsnap', 'fvevol', 'iorate', 'ksecdd', 'cng', 'acpi', 'pci', 'usbhub', 'usbhub3',
    'usbport', 'usbehci', 'usbxhci', 'ucx01000', 'usbccgp', 'hidusb', 'hidclass', 'kbdclass', 'mouclass', 'i8042prt', 'win32k',
    'win32kbase', 'win32kfull', 'dxgkrnl', 'watchdog', 'wdf01000', 'wdfldr', 'npfs', 'msfs', 'luafv', 'wof', 'bowser',
    'ntdll', 'kernel32', 'kernelbase', 'user32', 'gdi32', 'win32u', 'advapi32', 'sechost', 'rpcrt4', 'combase', 'ole32',
    'oleaut32', 'shell32', 'shlwapi', 'ws2_32', 'mswsock', 'msvcrt', 'ucrtbase', 'msvcp140', 'vcruntime140', 'wow64',
    'wow64cpu', 'wow64win', 'clr', 'coreclr', 'clrjit', 'mscorwks', 'mscorlib', 'system', 'winlogon', 'lsass', 'lsasrv',
    'lsm', 'services', 'svchost', 'csrss', 'smss', 'logonui', 'explorer', 'audiodg', 'wininit', 'userinit', 'dwm',
    // WMI, crypto, LSA and Group Policy parts of Windows: a wait in them is the OS waiting, not a third party.
    'wmiprvse', 'framedynos', 'framedyn', 'cimwin32', 'wbemcore', 'wbemcomn', 'wbemprox', 'wbemsvc', 'fastprox', 'wmisvc',
    'keyiso', 'ncrypt', 'ncryptprov', 'ncryptsslp', 'bcrypt', 'bcryptprimitives', 'crypt32', 'cryptsp', 'rsaenh', 'dpapi',
    'sspicli', 'sspisrv', 'samsrv', 'netlogon', 'kerberos', 'msv1_0', 'schannel', 'negoexts', 'gpsvc', 'userenv', 'profsvc',
    // Shell and storage parts of Windows (WinDbg writes windows.storage.dll as windows_storage).
    'windows_storage', 'shcore', 'propsys', 'cfgmgr32', 'setupapi', 'winsta', 'wtsapi32', 'dbghelp', 'dbgcore',
  ].map((name) => name.toLowerCase()),
);

/** Managed namespaces of the runtime: frames there are framework, not the application's code. */
const FRAMEWORK_NAMESPACES = ['System.', 'Microsoft.', 'DynamicClass.', '[', 'ILStubClass.', 'DomainNeutralILStubClass.', 'Interop+', 'Interop.'];

/** Frames that only wait, switch or dispatch: they say how a thread waits, not why. */
const WAIT_FUNCTIONS =
  /^_?(KiSwapContext|KiSwapThread|KiCommitThreadWait|KeWaitForSingleObject|KeWaitForMultipleObjects|KeWaitForMutexObject|KeDelayExecutionThread|KeRemoveQueue(Ex)?|KiSystemService\w*|KiFastCallEntry\w*|KiFastSystemCall\w*|KiServiceLinkage|KiSystemServiceCopyEnd|NtWaitFor\w+|ZwWaitFor\w+|NtDelayExecution|FsRtlCancellableWaitFor\w+|ExpWaitForResource\w*|ExAcquireResource\w*|ExAcquireSharedStarveExclusive|ExWaitForRundownProtectionRelease\w*|AlpcpSignalAndWait|AlpcpReceiveSynchronousReply|AlpcpProcessSynchronousRequest|NtAlpcSendWaitReceivePort|NtRequestWaitReplyPort|RtlpWaitOnCriticalSection|RtlpWaitForCriticalSection|RtlEnterCriticalSection|RtlpEnterCriticalSectionContended|RtlAcquireSRWLock\w+|RtlpAcquireSRWLock\w*|RtlpWaitOnAddress\w*|NtWaitForAlertByThreadId|ExfAcquirePushLock\w*|ExAcquirePushLock\w*|WaitForSingleObject(Ex)?|WaitForMultipleObjects(Ex)?|SleepEx|Sleep|CpupSyscallStub|Thunk0ArgReloadState|RunCpuSimulation|Wow64SystemServiceEx|ObpWaitForMultipleObjects|ObWaitForSingleObject|ObWaitForMultipleObjects|IopWaitForSynchronousIoEvent|IopSynchronousServiceTail|KeWaitForGate|KiWaitForGate|ExfAcquirePushLock\w*|ExpAcquireResource\w*|DbgBreakPoint)$/;

/** Frames that start or carry threads and work items: below them nothing explains the hang. */
const DISPATCH_FUNCTIONS = /^_?(ExpWorkerThread|IopProcessWorkItem|PspSystemThreadStartup|KiStartSystemThread|KxStartSystemThread|KiThreadStartup|RtlUserThreadStart|_RtlUserThreadStart|__RtlUserThreadStart|BaseThreadInitThunk|BaseThreadStart|ExpWorkerThreadBalanceManager)$/;

const MANAGED_WAITS = /^System\.Threading\.(Monitor\.(ReliableEnter|Enter|Wait|ObjWait)|ManualResetEventSlim\.Wait|Tasks\.Task\.(SpinThenBlockingWait|InternalWait|Wait)|WaitHandle\.\w+|SpinWait)|^System\.Runtime\.CompilerServices\.TaskAwaiter\./;

export function isOsModule(module: string): boolean {
  return OS_MODULES.has(module.toLowerCase().replace(/\.(sys|dll|exe)$/, ''));
}

export interface FrameLike {
  module: string | null;
  function: string | null;
  callSite?: string;
}

export function isWaitFrame(frame: FrameLike): boolean {
  // SOS frame markers (`[GCFrame: …]`, `[HelperMethodFrame: …] Monitor.Enter`) are the runtime's waits.
  if (frame.callSite?.startsWith('[')) return true;
  if (frame.function === null) return false;
  return WAIT_FUNCTIONS.test(frame.function) || MANAGED_WAITS.test(frame.function) || frame.function.startsWith('[');
}

export function isDispatchFrame(frame: FrameLike): boolean {
  return frame.function !== null && DISPATCH_FUNCTIONS.test(frame.function);
}

/** The module a frame belongs to; for managed frames, the first part of the namespace (`Contoso`). */
export function moduleOf(frame: FrameLike): string | null {
  if (frame.module) return frame.module;
  if (frame.function && /^[A-Za-z_][\w]*\./.test(frame.function) && !FRAMEWORK_NAMESPACES.some((prefix) => frame.function!.startsWith(prefix))) {
    return frame.function.slice(0, frame.function.indexOf('.'));
  }
  return null;
}

export function isFrameworkFrame(frame: FrameLike): boolean {
  return frame.module === null && frame.function !== null && FRAMEWORK_NAMESPACES.some((prefix) => frame.function!.startsWith(prefix));
}

/** `\FileSystem\mrxsmb` → `mrxsmb`; `usbehci.sys` → `usbehci`. */
export function driverModule(driver: string): string {
  const name = driver.slice(driver.lastIndexOf('\\') + 1);
  return name.replace(/\.(sys|dll|exe)$/i, '');
}

/** Layers of the I/O stack that every IRP passes through and that set a completion routine on each of them. */
const PASS_THROUGH_LAYERS = new Set(['fltmgr', 'partmgr', 'volmgr', 'volmgrx', 'volsnap', 'classpnp', 'disk', 'mpio', 'storport', 'fvevol', 'iorate', 'wof']);

export function isPassThroughLayer(module: string): boolean {
  return PASS_THROUGH_LAYERS.has(module.toLowerCase().replace(/\.(sys|dll)$/, ''));
}

/** MUP, RDBSS and the SMB redirector and transport: a wait here is file I/O to a remote path. */
const REMOTE_FILE_MODULES = /^(mup|rdbss|mrxsmb\d*|smb|srv\d?|bowser|netbt|csc)$/i;

export function isRemoteFileModule(module: string | null): boolean {
  return module !== null && REMOTE_FILE_MODULES.test(module);
}
