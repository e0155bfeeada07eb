package dev.atelier.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.error.ErrorMvcAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configuration.OAuth2AuthorizationServerConfiguration;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AuthenticationConverter;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.util.matcher.MediaTypeRequestMatcher;
import org.springframework.util.StringUtils;

import java.util.List;
import java.util.UUID;

/**
 * A real OAuth 2.0 authorization server with the device authorization grant (Spring Authorization Server), which the
 * in-JVM mock issuer of the other tests lacks. It runs servlet-side, so {@link DeviceAuthorizationServerProcess} starts
 * it in a JVM of its own: the engine under test stays WebFlux. Only the auto-configurations a servlet authorization
 * server needs are imported, not the engine's (no database, no Axon), and it reads no application.yml
 * ({@code spring.config.name} is set to a name no file has). Deliberately no {@code @Configuration}: the engine's
 * component scan of {@code dev.atelier} would pick it up in the engine tests; as the application's source its
 * {@code @Bean} methods count all the same.
 *
 * <p>What it offers is what an operator's identity provider must offer the CLI (docs/cli.md): a public client
 * {@value #CLI_CLIENT} with the device_code grant, consent required, a user {@value #USER} (password
 * {@value #PASSWORD}) and one who declines, {@value #OTHER_USER}, and JWT access tokens with {@code aud} {@value #AUDIENCE} and the claims the engine maps to the
 * user: {@code sub}, {@code name}, {@code email}, {@code roles}.
 */
@EnableWebSecurity
@ImportAutoConfiguration({PropertyPlaceholderAutoConfiguration.class, ServletWebServerFactoryAutoConfiguration.class,
        DispatcherServletAutoConfiguration.class, WebMvcAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class,
        JacksonAutoConfiguration.class, ErrorMvcAutoConfiguration.class})
public class DeviceAuthorizationServer {

    public static final String CLI_CLIENT = "atelier-cli";
    public static final String AUDIENCE = "atelier";
    public static final String USER = "ada";
    public static final String PASSWORD = "analytical-engine";
    public static final String USER_NAME = "Ada Lovelace";
    public static final String USER_EMAIL = "ada@example.org";
    /** A role id the engine maps one to one (default roles add {@code member}). */
    public static final String USER_ROLE = "template-admin";
    /** A second user, who declines what the first approves. */
    public static final String OTHER_USER = "grace";
    public static final String OTHER_PASSWORD = "cobol-compiler";

    public static void main(String[] args) {
        SpringApplication application = new SpringApplication(DeviceAuthorizationServer.class);
        application.setDefaultProperties(java.util.Map.of(
                "spring.main.web-application-type", "servlet",
                "spring.main.banner-mode", "off",
                "spring.config.name", "device-authorization-server",
                "spring.jmx.enabled", "false"));
        application.run(args);
    }

    @Bean
    @Order(1)
    SecurityFilterChain authorizationServer(HttpSecurity http, RegisteredClientRepository clients) throws Exception {
        OAuth2AuthorizationServerConfigurer server = OAuth2AuthorizationServerConfigurer.authorizationServer();
        AuthorizationServerSettings defaults = AuthorizationServerSettings.builder().build();
        http.securityMatcher(server.getEndpointsMatcher())
                .with(server, as -> as
                        .oidc(Customizer.withDefaults())
                        // Spring Authorization Server authenticates public clients only with PKCE; a device has no
                        // code verifier, so the device endpoints get the client authentication its samples show.
                        .clientAuthentication(client -> client
                                .authenticationConverter(new DeviceClientConverter(defaults.getDeviceAuthorizationEndpoint()))
                                .authenticationProvider(new DeviceClientProvider(clients))))
                .authorizeHttpRequests(authorize -> authorize.anyRequest().authenticated())
                .exceptionHandling(exceptions -> exceptions.defaultAuthenticationEntryPointFor(
                        new LoginUrlAuthenticationEntryPoint("/login"), new MediaTypeRequestMatcher(MediaType.TEXT_HTML)));
        return http.build();
    }

    @Bean
    @Order(2)
    SecurityFilterChain signIn(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(authorize -> authorize.anyRequest().authenticated())
                .formLogin(Customizer.withDefaults());
        return http.build();
    }

    @Bean
    UserDetailsService users() {
        return new InMemoryUserDetailsManager(
                User.withUsername(USER).password("{noop}" + PASSWORD).roles("USER").build(),
                User.withUsername(OTHER_USER).password("{noop}" + OTHER_PASSWORD).roles("USER").build());
    }

    @Bean
    RegisteredClientRepository clients() {
        RegisteredClient cli = RegisteredClient.withId(UUID.randomUUID().toString())
                .clientId(CLI_CLIENT)
                .clientAuthenticationMethod(ClientAuthenticationMethod.NONE)
                // No refresh_token grant: Spring Authorization Server authenticates no public client at a refresh.
                .authorizationGrantType(AuthorizationGrantType.DEVICE_CODE)
                .scope(OidcScopes.OPENID).scope(OidcScopes.PROFILE).scope(OidcScopes.EMAIL)
                .clientSettings(ClientSettings.builder().requireAuthorizationConsent(true).build())
                .build();
        return new InMemoryRegisteredClientRepository(cli);
    }

    @Bean
    AuthorizationServerSettings settings(@Value("${server.port}") int port) {
        // The engine compares the tokens' iss with its configured issuer character by character.
        return AuthorizationServerSettings.builder().issuer("http://localhost:" + port).build();
    }

    @Bean
    JWKSource<SecurityContext> keys() throws JOSEException {
        RSAKey key = new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate();
        return new ImmutableJWKSet<>(new JWKSet(key));
    }

    @Bean
    JwtDecoder jwtDecoder(JWKSource<SecurityContext> keys) {
        return OAuth2AuthorizationServerConfiguration.jwtDecoder(keys);
    }

    /** The access token's audience and the claims the engine maps to its user (ClaimMapping). */
    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> engineClaims() {
        return context -> {
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                context.getClaims().audience(List.of(AUDIENCE));
                if (USER.equals(context.getPrincipal().getName())) {
                    context.getClaims().claim("name", USER_NAME).claim("email", USER_EMAIL)
                            .claim("roles", List.of(USER_ROLE));
                }
            }
        };
    }

    /** A public client's {@code client_id} at the device authorization and device token requests. */
    static final class DeviceClientConverter implements AuthenticationConverter {
        private final String deviceAuthorizationEndpoint;

        DeviceClientConverter(String deviceAuthorizationEndpoint) {
            this.deviceAuthorizationEndpoint = deviceAuthorizationEndpoint;
        }

        @Override
        public Authentication convert(HttpServletRequest request) {
            boolean deviceAuthorization = HttpMethod.POST.matches(request.getMethod())
                    && deviceAuthorizationEndpoint.equals(request.getRequestURI());
            boolean deviceToken = AuthorizationGrantType.DEVICE_CODE.getValue()
                    .equals(request.getParameter(OAuth2ParameterNames.GRANT_TYPE))
                    && request.getParameter(OAuth2ParameterNames.DEVICE_CODE) != null;
            String clientId = request.getParameter(OAuth2ParameterNames.CLIENT_ID);
            if (!(deviceAuthorization || deviceToken) || clientId == null) {
                return null;
            }
            if (!StringUtils.hasText(clientId) || request.getParameterValues(OAuth2ParameterNames.CLIENT_ID).length != 1) {
                throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_REQUEST);
            }
            return new DeviceClientAuthentication(clientId);
        }
    }

    /** Authenticates a {@link DeviceClientAuthentication} as a registered public client. */
    static final class DeviceClientProvider implements AuthenticationProvider {
        private final RegisteredClientRepository clients;

        DeviceClientProvider(RegisteredClientRepository clients) {
            this.clients = clients;
        }

        @Override
        public Authentication authenticate(Authentication authentication) {
            String clientId = authentication.getPrincipal().toString();
            RegisteredClient client = clients.findByClientId(clientId);
            if (client == null || !client.getClientAuthenticationMethods().contains(ClientAuthenticationMethod.NONE)) {
                throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
            }
            return new DeviceClientAuthentication(client);
        }

        @Override
        public boolean supports(Class<?> authentication) {
            return DeviceClientAuthentication.class.isAssignableFrom(authentication);
        }
    }

    /** A public client of the device grant, before and after it was found among the registered clients. */
    static final class DeviceClientAuthentication extends OAuth2ClientAuthenticationToken {
        DeviceClientAuthentication(String clientId) {
            super(clientId, ClientAuthenticationMethod.NONE, null, null);
        }

        DeviceClientAuthentication(RegisteredClient client) {
            super(client, ClientAuthenticationMethod.NONE, null);
        }
    }
}
