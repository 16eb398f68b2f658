/**
 * The drill's responder-tampered scenario: someone other than the stack's deployment stops the
 * trail the responder reads its events from. Drill code only: no Lambda entry imports this file.
 */
import {
  CloudTrailClient,
  CreateTrailCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
  StopLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { eventInAccount, readFixture } from "../../cli/drill/events.js";
import { type Check, fixtureOf, type Scenario } from "../../cli/drill/scenarios.js";
import { responderTampered } from "./incident.js";

async function loggingCheck(trail: CloudTrailClient, name: string): Promise<Check> {
  const status = await trail.send(new GetTrailStatusCommand({ Name: name }));
  return {
    what: "the trail is still stopped (the responder only notifies: the notification says how to start it)",
    ok: status.IsLogging === false,
    observed: `GetTrailStatus: IsLogging ${String(status.IsLogging)}`,
  };
}

export const scenarios: readonly Scenario[] = [
  {
    id: "trail-stopped",
    title: "The responder's trail is stopped by a role other than the deployment's",
    promise: "notified: critical, with how to start the trail again",
    async stage(world) {
      const name = `drill-trail-${Date.now().toString(36)}`;
      const s3 = new S3Client({ ...world.clientConfig, forcePathStyle: true });
      const cloudtrail = new CloudTrailClient(world.clientConfig);
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      const created = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: name }));
      const arn = created.TrailARN;
      if (!arn) throw new Error("CreateTrail returned no trail ARN");
      // moto finds a trail by its name only in these calls (AWS takes the name or the ARN).
      await cloudtrail.send(new StartLoggingCommand({ Name: name }));
      await cloudtrail.send(new StopLoggingCommand({ Name: name }));
      const fixture = fixtureOf(responderTampered, "stop-logging");
      return {
        attack: `build-runner role StopLogging on trail ${name}`,
        performed: true,
        fixture,
        event: eventInAccount(readFixture(fixture), {
          account: world.account,
          region: world.region,
          request: { name: arn },
        }),
        expect: {
          rule: responderTampered.name,
          outcome: "notified",
          actions: [],
          severity: "CRITICAL",
          notificationIncludes: [`aws cloudtrail start-logging --name ${arn}`],
        },
        verify: async () => [await loggingCheck(cloudtrail, name)],
      };
    },
  },
];
