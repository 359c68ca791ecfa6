/**
 * N mock servers forming a replica set: every member lists the others in `hosts`. A test can
 * move the primary (new electionId, setVersion unchanged unless asked), take a member down
 * (listener and sockets closed) and bring it back on the same port.
 */
import { ObjectId } from 'bson';
import { MockServer, type MockServerOptions, type MockServerType } from './mock_server';

export interface MockReplicaSetOptions {
  /** Number of data-bearing members (default 3). */
  members?: number;
  /** Extra arbiters appended after the data-bearing members (default 0). */
  arbiters?: number;
  setName?: string;
  /** Index of the initial primary; -1 for none (default 0). */
  primary?: number;
  /** Options applied to every member. */
  memberOptions?: MockServerOptions;
}

export class MockReplicaSet {
  readonly setName: string;
  readonly members: MockServer[] = [];
  private primaryIndex: number;
  private electionCounter = 1;
  private setVersion = 1;
  private readonly arbiterCount: number;

  private constructor(setName: string, primary: number, arbiters: number) {
    this.setName = setName;
    this.primaryIndex = primary;
    this.arbiterCount = arbiters;
  }

  static async start(options: MockReplicaSetOptions = {}): Promise<MockReplicaSet> {
    const count = options.members ?? 3;
    const arbiters = options.arbiters ?? 0;
    const rs = new MockReplicaSet(options.setName ?? 'rs0', options.primary ?? 0, arbiters);
    try {
      for (let i = 0; i < count + arbiters; i++) {
        rs.members.push(await MockServer.start({ ...options.memberOptions, type: 'secondary', setName: rs.setName }));
      }
    } catch (error) {
      await rs.close();
      throw error;
    }
    rs.applyStates();
    return rs;
  }

  /** Addresses of every member (`127.0.0.1:port`). */
  get addresses(): string[] {
    return this.members.map((m) => m.address);
  }

  /** A seed list / connection-string host part. */
  get hostList(): string {
    return this.addresses.join(',');
  }

  get primary(): MockServer | undefined {
    return this.primaryIndex >= 0 ? this.members[this.primaryIndex] : undefined;
  }

  /** Makes member `index` the primary (others become secondaries); -1 leaves no primary. */
  setPrimary(index: number): void {
    this.primaryIndex = index;
    this.electionCounter++;
    this.applyStates();
  }

  /** Bumps setVersion on every member. */
  reconfigure(): void {
    this.setVersion++;
    this.applyStates();
  }

  /** Takes a member down: listener closed, every socket destroyed. */
  async stopMember(index: number): Promise<void> {
    await this.members[index].stop();
  }

  /** Brings a stopped member back on the same port. */
  async startMember(index: number): Promise<void> {
    await this.members[index].listen();
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }

  private applyStates(): void {
    const dataMembers = this.members.length - this.arbiterCount;
    const hosts = this.members.slice(0, dataMembers).map((m) => m.address);
    const arbiters = this.members.slice(dataMembers).map((m) => m.address);
    const primary = this.primary?.address;
    const electionId = new ObjectId(`7fffffff${this.electionCounter.toString(16).padStart(16, '0')}`);
    this.members.forEach((member, i) => {
      const type: MockServerType = i >= dataMembers ? 'arbiter' : i === this.primaryIndex ? 'primary' : 'secondary';
      member.setState({
        type,
        setName: this.setName,
        hosts,
        arbiters: arbiters.length > 0 ? arbiters : undefined,
        primary,
        setVersion: this.setVersion,
        electionId: type === 'primary' ? electionId : undefined
      });
    });
  }
}
