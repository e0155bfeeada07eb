package dev.atelier.providers.aws;

import dev.atelier.providers.cloud.SpecRead;
import dev.atelier.providers.cloud.SpecReader;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The spec of an {@code aws-ec2} template, read and checked (see docs/providers/aws-ec2.md). */
record Ec2Spec(String region, String instanceType, String imageId, Integer diskGb, String diskType, String subnetId,
               List<String> securityGroupIds, String keyName, String sshUser, int sshPort, String sshPublicKey, boolean spot,
               String startupScript, Map<String, String> tags) {

    static final List<String> KEYS = List.of("region", "instanceType", "imageId", "diskGb", "diskType", "subnetId",
            "securityGroupIds", "keyName", "sshUser", "sshPort", "sshPublicKey", "spot", "startupScript", "tags");
    /** EBS volume types that can boot an instance and need no provisioned IOPS. */
    static final List<String> ROOT_VOLUME_TYPES = List.of("gp3", "gp2", "standard");
    static final String DEFAULT_SSH_USER = "ec2-user";
    static final int MAX_STARTUP_SCRIPT = 12 * 1024;

    private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]{0,15}\\.[a-z0-9]{1,16}");
    private static final Pattern AMI = Pattern.compile("ami-([0-9a-f]{8}|[0-9a-f]{17})");
    private static final Pattern SUBNET = Pattern.compile("subnet-([0-9a-f]{8}|[0-9a-f]{17})");
    private static final Pattern SECURITY_GROUP = Pattern.compile("sg-([0-9a-f]{8}|[0-9a-f]{17})");
    private static final Pattern KEY_NAME = Pattern.compile("[A-Za-z0-9 ._+=,@:/-]{1,255}");
    private static final Pattern TAG_KEY = Pattern.compile("[\\p{L}\\p{N} _.:/=+@-]{1,128}");
    private static final Pattern TAG_VALUE = Pattern.compile("[\\p{L}\\p{N} _.:/=+@-]{0,256}");

    static SpecRead<Ec2Spec> read(Map<String, Object> raw, Collection<String> regions) {
        SpecReader r = new SpecReader(Ec2WorkspaceProvider.NAME, raw, KEYS);
        String region = r.location("region", regions, "an AWS region such as eu-west-1", "AWS region",
                "atelier.providers.aws.extra-regions");
        String instanceType = r.string("instanceType", true, INSTANCE_TYPE, "an EC2 instance type such as t3.large or g5.xlarge");
        String imageId = r.string("imageId", true, AMI, "an AMI id such as ami-0123456789abcdef0");
        Integer diskGb = r.integer("diskGb", 1, 16384);
        String diskType = r.oneOf("diskType", ROOT_VOLUME_TYPES, "gp3");
        String subnetId = r.string("subnetId", false, SUBNET, "a subnet id such as subnet-0123456789abcdef0");
        List<String> groups = r.strings("securityGroupIds", SECURITY_GROUP,
                "security group ids such as sg-0123456789abcdef0", 5);
        String keyName = r.string("keyName", false, KEY_NAME, "the name of an EC2 key pair");
        String sshUser = r.sshUser(DEFAULT_SSH_USER);
        int sshPort = r.sshPort();
        String sshPublicKey = r.sshPublicKey(false, null);
        boolean spot = r.bool("spot", false);
        String script = r.startupScript(MAX_STARTUP_SCRIPT);
        Map<String, String> tags = r.stringMap("tags", TAG_KEY, TAG_VALUE,
                "EC2 tags: keys of 1-128 and values of up to 256 letters, digits, spaces and _.:/=+-@", 40);
        return r.read(new Ec2Spec(region, instanceType, imageId, diskGb, diskType, subnetId, groups, keyName,
                sshUser, sshPort, sshPublicKey, spot, script, tags));
    }
}
