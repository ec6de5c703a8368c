import { canonicalAddress, isNullAddress } from '../../address.ts';
import { addUnique } from '../../model/lists.ts';
import { addEvidenceLine, noteField, setField } from '../../model/evidence.ts';
import type { AlpcMessageEntity, AlpcPortEntity } from '../../model/types.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';
import { matchThreadHeader } from './thread-header.ts';

const MESSAGE_HEADER = /^Message\s+(?:@\s+)?([0-9a-f`]{8,17})$/i;
const PORT_HEADER = /^Port\s+([0-9a-f`]{8,17})$/i;
const FIELD = /^([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*)$/;
const ADDRESS_WITH_NOTE = /^([0-9a-f`]{8,17})(?:\s+[[(]([^\])]*)[\])])?/i;
const PORTS_CREATED = /^Ports created by the process\s+([0-9a-f`]{8,17})/i;
const CONNECTION =
  /^([0-9a-f`]{8,17})\s+\d+\s+->\s+([0-9a-f`]{8,17})(?:\('([^']*)'\))?\s+\d+\s+([0-9a-f`]{8,17})\('([^']*)'\)/i;
const PORT_LINE = /^([0-9a-f`]{8,17})\('([^']*)'\)/i;

/** `!alpc /m <message>`. */
export const alpcMessageSectionReader: SectionReader = {
  name: 'alpc-message',
  keys: ['Message'],
  start(line, context) {
    const match = MESSAGE_HEADER.exec(line.text);
    const address = match ? canonicalAddress(match[1]!) : null;
    if (!address) return null;
    const message = context.session.alpcMessage(address);
    addEvidenceLine(message.evidence, line.number);
    context.understood();
    return new AlpcMessageSection(message, context);
  },
};

class AlpcMessageSection implements Section {
  constructor(
    private readonly message: AlpcMessageEntity,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    const colon = text.indexOf(':');
    if (colon <= 0) return true;
    const name = text.slice(0, colon).trimEnd();
    const value = text.slice(colon + 1).trim();
    const message = this.message;
    switch (name) {
      case 'MessageID': {
        const id = /^0x([0-9a-f]+)/i.exec(value);
        if (id) setField(message, 'messageId', Number.parseInt(id[1]!, 16), number);
        break;
      }
      case 'Type':
        setField(message, 'type', value, number);
        break;
      case 'WaitingThread': {
        const thread = canonicalAddress(value.split(/\s/)[0]!);
        if (thread && !isNullAddress(thread)) {
          setField(message, 'waitingThread', thread, number);
          this.context.session.thread(thread);
        }
        break;
      }
      case 'ServerThread': {
        const thread = canonicalAddress(value.split(/\s/)[0]!);
        // A zero server thread is a fact too: nobody has picked the request up.
        if (thread && !isNullAddress(thread)) setField(message, 'serverThread', thread, number);
        else noteField(message.evidence, 'serverThread', number);
        break;
      }
      case 'QueueType':
        setField(message, 'queueType', value, number);
        break;
      case 'OwnerPort': {
        const port = ADDRESS_WITH_NOTE.exec(value);
        if (port) setField(message, 'ownerPort', canonicalAddress(port[1]!), number);
        break;
      }
      case 'QueuePort': {
        const port = ADDRESS_WITH_NOTE.exec(value);
        if (port) {
          setField(message, 'queuePort', canonicalAddress(port[1]!), number);
          if (port[2]) setField(message, 'queuePortType', port[2], number);
        }
        break;
      }
      case 'QueuePortOwnerProcess': {
        const owner = ADDRESS_WITH_NOTE.exec(value);
        if (owner) {
          const process = canonicalAddress(owner[1]!);
          setField(message, 'queuePortOwnerProcess', process, number);
          if (owner[2]) {
            setField(message, 'queuePortOwnerImage', owner[2], number);
            if (process) setField(this.context.session.process(process), 'image', owner[2], number);
          }
        }
        break;
      }
      default:
        break;
    }
    return true;
  }
}

/** `!alpc /p <port>`. */
export const alpcPortSectionReader: SectionReader = {
  name: 'alpc-port',
  keys: ['Port'],
  start(line, context) {
    const match = PORT_HEADER.exec(line.text);
    const address = match ? canonicalAddress(match[1]!) : null;
    if (!address) return null;
    const port = context.session.alpcPort(address);
    addEvidenceLine(port.evidence, line.number);
    context.understood();
    return new AlpcPortSection(port, context);
  },
};

class AlpcPortSection implements Section {
  /** Threads registered with the port's completion object are listed as `THREAD` rows inside it. */
  claims(line: Line): boolean {
    return line.text.startsWith('THREAD ');
  }

  constructor(
    private readonly port: AlpcPortEntity,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    const port = this.port;
    const emptyQueue = /^(Main|Direct message|Large message|Pending|Canceled) queue is empty\.?$/i.exec(text);
    if (emptyQueue) {
      const queue = emptyQueue[1]!.split(' ')[0]!.toLowerCase();
      port.emptyQueues = addUnique(port.emptyQueues, queue);
      setField(port, 'emptyQueues', port.emptyQueues, number);
      return true;
    }
    if (text.startsWith('THREAD ')) {
      const header = matchThreadHeader(text);
      if (header) {
        const thread = this.context.session.thread(header.address);
        setField(thread, 'pid', header.pid, number);
        setField(thread, 'tid', header.tid, number);
        port.registeredThreads = addUnique(port.registeredThreads, header.address);
        setField(port, 'registeredThreads', port.registeredThreads, number);
      }
      return true;
    }
    const field = FIELD.exec(text);
    if (!field) return true;
    const value = field[2]!.trim();
    switch (field[1]) {
      case 'Type':
        setField(port, 'type', value, number);
        break;
      case 'ConnectionPort': {
        const name = /\(([^)]*)\)/.exec(value);
        if (name && canonicalAddress(value.split(/\s/)[0]!) === port.address) setField(port, 'name', name[1]!, number);
        break;
      }
      case 'OwnerProcess': {
        const owner = ADDRESS_WITH_NOTE.exec(value);
        if (owner) {
          const process = canonicalAddress(owner[1]!);
          setField(port, 'ownerProcess', process, number);
          if (owner[2]) {
            setField(port, 'ownerImage', owner[2], number);
            if (process) setField(this.context.session.process(process), 'image', owner[2], number);
          }
        }
        break;
      }
      default:
        break;
    }
    return true;
  }
}

/** `!alpc /lpp <process>`: the ports a process created, their connections, and the ports it is connected to. */
export const alpcPortListSectionReader: SectionReader = {
  name: 'alpc-port-list',
  keys: ['Ports'],
  start(line, context) {
    const match = PORTS_CREATED.exec(line.text);
    if (!match && !/^Ports the process/i.test(line.text)) return null;
    context.understood();
    const owner = match ? canonicalAddress(match[1]!) : null;
    return new AlpcPortListSection(owner, context);
  },
};

class AlpcPortListSection implements Section {
  private currentPort: AlpcPortEntity | null = null;
  private connectedSection = false;

  constructor(
    private readonly owner: string | null,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    if (/^Ports the process/i.test(text)) {
      this.connectedSection = true;
      this.currentPort = null;
      return true;
    }
    const connection = CONNECTION.exec(text);
    if (connection) {
      const process = canonicalAddress(connection[4]!);
      if (process) setField(this.context.session.process(process), 'image', connection[5]!, number);
      if (this.currentPort && !this.connectedSection) {
        this.currentPort.connections.push({
          clientPort: canonicalAddress(connection[1]!),
          serverPort: canonicalAddress(connection[2]!),
          process,
          image: connection[5]!,
          line: number,
        });
        setField(this.currentPort, 'connections', this.currentPort.connections, number);
      } else if (this.connectedSection && connection[3]) {
        const serverPort = canonicalAddress(connection[2]!);
        if (serverPort) {
          const port = this.context.session.alpcPort(serverPort);
          setField(port, 'name', connection[3], number);
          setField(port, 'ownerProcess', process, number);
          setField(port, 'ownerImage', connection[5]!, number);
        }
      }
      return true;
    }
    const portLine = PORT_LINE.exec(text);
    if (portLine && !this.connectedSection) {
      const address = canonicalAddress(portLine[1]!);
      if (address) {
        const port = this.context.session.alpcPort(address);
        setField(port, 'name', portLine[2]!, number);
        if (this.owner) setField(port, 'ownerProcess', this.owner, number);
        this.currentPort = port;
      }
    }
    return true;
  }
}
